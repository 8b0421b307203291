import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR } from '../src/gateway/simulator';
import { DEFAULT_SMSC_BEHAVIOUR, SmppSimulator } from '../src/providers/smpp.simulator';
import { parseProvidersFile } from '../src/providers/providers.file';
import { CREATE_MAILING, inMs, insertClients, mailingState, phonesOf, untilMailingStatus } from './support/fixtures';
import { GATEWAY_TOKEN, startTestGateway } from './support/gateway';
import { startTestHerald, type TestHerald } from './support/herald';
import { waitFor } from './support/wait';

// Issue 18's scenarios, one after another against one long-lived Herald with two providers
// on real sockets: an SMSC (the `smpp` package's server, SmppSimulator) and the HTTP gateway
// simulator. Routes: 916 and 917 to the SMSC first, the HTTP gateway as its fallback; 918 to
// the SMSC alone; everyone else to the HTTP gateway first, the SMSC as its fallback.

const PASSWORD = 'sm5c-pw';
let herald: TestHerald;
let smsc: SmppSimulator;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;

const PROVIDERS = `{
  "providers": [
    { "name": "smsc", "type": "smpp", "host": "127.0.0.1", "port": \${SMSC_PORT}, "systemId": "herald", "password": "\${SMSC_PASSWORD}",
      "sourceAddr": "Herald", "binds": 2, "window": 5, "enquireLinkMs": 1000 },
    { "name": "web", "type": "http", "url": "\${WEB_URL}", "token": "\${WEB_TOKEN}", "concurrency": 20 }
  ],
  "routes": [
    { "operatorCodes": ["916", "917"], "providers": ["smsc", "web"] },
    { "operatorCodes": ["918"], "providers": ["smsc"] },
    { "providers": ["web", "smsc"] }
  ]
}`;

beforeAll(async () => {
  smsc = new SmppSimulator({ systemId: 'herald', password: PASSWORD });
  const address = await smsc.start();
  gateway = await startTestGateway({ latencyMs: 5 });
  // Numbers are not strings in JSON: the port goes in bare, substituted as text first.
  const text = PROVIDERS.replace('${SMSC_PORT}', String(address.port));
  const providers = parseProvidersFile(text, { SMSC_PASSWORD: PASSWORD, WEB_URL: gateway.url, WEB_TOKEN: GATEWAY_TOKEN });
  herald = await startTestHerald({ providers, dispatch: { requestTimeoutMs: 1_500, leaseMs: 5_000 } });
  await waitFor(async () => smsc.bound.length === 2, 5_000, 'both binds up');
}, 60_000);

afterAll(async () => {
  await herald?.stop();
  await smsc?.stop();
  await gateway?.simulator.stop();
});

afterEach(async () => {
  smsc.set({ ...DEFAULT_SMSC_BEHAVIOUR });
  gateway.simulator.set({ ...DEFAULT_BEHAVIOUR, latencyMs: 5 });
  await smsc.accept();
  await gateway.simulator.accept();
  await waitFor(async () => smsc.bound.length === 2 && (await providerStates()).every((p) => p.state === 'UP'), 10_000, 'every provider UP again');
});

const PROVIDERS_QUERY = `{ providers { name type state reason inFlight partsPerSecond sentPerSecond bindsUp } }`;
async function providerStates(): Promise<{ name: string; state: string; reason: string | null; bindsUp: number | null }[]> {
  return (await herald.ok(PROVIDERS_QUERY)).providers;
}

async function mailingTo(count: number, operatorCode: string, text = 'Hello from Herald', endInMs = 60_000) {
  const tag = `p${Math.random().toString(36).slice(2, 10)}`;
  const clientIds = await insertClients(herald, count, { tags: [tag], operatorCode });
  const data = await herald.ok(CREATE_MAILING, { input: { text, startAt: inMs(-1000), endAt: inMs(endInMs), filter: { tags: [tag] } } });
  return { id: data.createMailing.id as string, clientIds, phones: await phonesOf(herald, clientIds) };
}

const smscGot = (phones: Set<number>) => smsc.messages.filter((m) => phones.has(Number(m.destination)));
const webGot = (phones: Set<number>) => gateway.simulator.received.filter((r) => phones.has(Number(r.phone)));

async function rows(mailingId: string) {
  return herald.sql<{ phone: string; status: string; provider: string | null; provider_message_id: string | null; attempts: number }[]>`
    select phone, status, provider, provider_message_id, attempts from messages where mailing_id = ${mailingId} order by id`;
}

describe('providers behind one router', () => {
  it('should route by operator code, and say which provider took each message with its id', async () => {
    const viaSmsc = await mailingTo(12, '916');
    const viaWeb = await mailingTo(12, '925');
    await untilMailingStatus(herald, viaSmsc.id, 'COMPLETED', 10_000);
    await untilMailingStatus(herald, viaWeb.id, 'COMPLETED', 10_000);
    expect(smscGot(viaSmsc.phones)).toHaveLength(12);
    expect(webGot(viaSmsc.phones)).toHaveLength(0);
    expect(new Set(webGot(viaWeb.phones).map((r) => Number(r.phone)))).toEqual(viaWeb.phones);
    expect(smscGot(viaWeb.phones)).toHaveLength(0);
    const smscRows = await rows(viaSmsc.id);
    expect(smscRows.every((r) => r.status === 'SENT' && r.provider === 'smsc')).toBe(true);
    // The SMSC's message_id is kept, for its receipt.
    const ids = new Set(smsc.messages.flatMap((m) => m.messageIds));
    expect(smscRows.every((r) => r.provider_message_id !== null && ids.has(r.provider_message_id))).toBe(true);
    expect((await rows(viaWeb.id)).every((r) => r.status === 'SENT' && r.provider === 'web')).toBe(true);
    const page = await herald.ok(`query($id: ID!) { mailing(id: $id) { messages(first: 3) { nodes { provider providerMessageId status } } } }`, { id: viaSmsc.id });
    expect(page.mailing.messages.nodes[0]).toMatchObject({ provider: 'smsc', status: 'SENT', providerMessageId: expect.any(String) });
  });

  it('should send a 100-character Cyrillic text as 2 UCS-2 parts whose headers reassemble it', async () => {
    const text = 'Привет! Это длинное сообщение от Herald, в нём ровно сто символов кириллицей и знаков препинания...'.slice(0, 100).padEnd(100, 'я');
    expect(text).toHaveLength(100);
    const m = await mailingTo(1, '917', text);
    await untilMailingStatus(herald, m.id, 'COMPLETED', 10_000);
    const [got] = smscGot(m.phones);
    expect(got).toMatchObject({ text, dataCoding: 8, parts: 2, accepted: true });
    expect(got.bind).toBeGreaterThanOrEqual(0); // both parts through one bind
  });

  it('should keep at most `window` submit_sm unacknowledged on each bind', async () => {
    smsc.set({ latencyMs: 60 });
    const m = await mailingTo(60, '918');
    await untilMailingStatus(herald, m.id, 'COMPLETED', 20_000);
    expect(smscGot(m.phones)).toHaveLength(60);
    const busiest = Math.max(...smsc.bound.map((b) => b.maxUnacknowledged));
    expect(busiest).toBe(5);
  });

  it('should slow down on ESME_RTHROTTLED and send everything after, failing none', async () => {
    smsc.set({ forceStatus: 0x58 });
    const m = await mailingTo(20, '918');
    await waitFor(async () => smsc.submits.filter((s) => s.status === 0x58).length >= 5, 5_000, 'some throttled answers');
    const throttled = await providerStates();
    expect(throttled.find((p) => p.name === 'smsc')?.state).not.toBe('UP');
    await new Promise((r) => setTimeout(r, 800));
    smsc.set({ forceStatus: null });
    const done = await untilMailingStatus(herald, m.id, 'COMPLETED', 20_000);
    expect(done.stats).toMatchObject({ total: 20, sent: 20, failed: 0 });
    expect(new Set(smscGot(m.phones).filter((x) => x.accepted).map((x) => x.destination)).size).toBe(20);
  });

  it('should lose nothing when the SMSC drops every connection mid-mailing, resending at most what was in flight', async () => {
    smsc.set({ latencyMs: 30 });
    const m = await mailingTo(80, '918');
    await waitFor(async () => smscGot(m.phones).length >= 15, 10_000, 'a part of the mailing through');
    smsc.dropConnections();
    const done = await untilMailingStatus(herald, m.id, 'COMPLETED', 30_000);
    expect(done.stats).toMatchObject({ total: 80, sent: 80 });
    const accepted = smscGot(m.phones).filter((x) => x.accepted);
    expect(new Set(accepted.map((x) => x.destination))).toEqual(new Set([...m.phones].map(String)));
    // Duplicates: only what was unacknowledged when the connections broke (2 binds × window 5).
    expect(accepted.length - 80).toBeLessThanOrEqual(10);
  });

  it('should say DOWN with the reason while binds are refused, and send once they are accepted', async () => {
    smsc.set({ refuseBinds: true });
    smsc.dropConnections();
    await waitFor(async () => {
      const p = (await providerStates()).find((x) => x.name === 'smsc');
      return p?.state === 'DOWN' && /bind refused/.test(p.reason ?? '') && p.bindsUp === 0;
    }, 5_000, 'smsc DOWN for refused binds');
    const m = await mailingTo(5, '918');
    await new Promise((r) => setTimeout(r, 500));
    expect((await mailingState(herald, m.id)).stats.sent).toBe(0);
    smsc.set({ refuseBinds: false });
    const done = await untilMailingStatus(herald, m.id, 'COMPLETED', 10_000);
    expect(done.stats).toMatchObject({ total: 5, sent: 5, failed: 0 });
  });

  it('should fail over to the next provider within 1 s when the first refuses connections, and come back within 5 s of its return', async () => {
    gateway.simulator.set({ latencyMs: 20 });
    const m = await mailingTo(400, '925', 'Failover');
    await waitFor(async () => webGot(m.phones).length >= 20, 5_000, 'traffic through web');
    await gateway.simulator.refuse();
    const downAt = Date.now();
    const smscBefore = smscGot(m.phones).length;
    await waitFor(async () => smscGot(m.phones).length > smscBefore, 1_000, 'traffic through smsc within 1 s');
    expect(Date.now() - downAt).toBeLessThan(1_000);
    await new Promise((r) => setTimeout(r, 500));
    await gateway.simulator.accept();
    const upAt = Date.now();
    const webBefore = webGot(m.phones).length;
    await waitFor(async () => webGot(m.phones).length > webBefore + 5, 5_000, 'traffic back on web within 5 s');
    expect(Date.now() - upAt).toBeLessThan(5_000);
    const done = await untilMailingStatus(herald, m.id, 'COMPLETED', 30_000);
    expect(done.stats).toMatchObject({ total: 400, sent: 400, failed: 0 });
    const byProvider = await herald.sql<{ provider: string; n: number }[]>`
      select provider, count(*)::int as n from messages where mailing_id = ${m.id} group by provider order by provider`;
    expect(byProvider.map((r) => r.provider)).toEqual(['smsc', 'web']);
    // Refused connections never reached web: nothing went out twice.
    const accepted = smscGot(m.phones).filter((x) => x.accepted).length + webGot(m.phones).filter((r) => r.status === 200).length;
    expect(accepted).toBe(400);
  });

  it('should retry an ambiguous message (a timeout after it went out) through the same provider only', async () => {
    gateway.simulator.set({ hang: true });
    const m = await mailingTo(3, '925', 'Ambiguous');
    await waitFor(async () => (await rows(m.id)).length === 3, 5_000, 'the timeouts written');
    const pending = await rows(m.id);
    expect(pending.every((r) => r.status === 'PENDING' && r.provider === 'web')).toBe(true);
    gateway.simulator.set({ hang: false });
    const done = await untilMailingStatus(herald, m.id, 'COMPLETED', 15_000);
    expect(done.stats).toMatchObject({ total: 3, sent: 3 });
    expect(smscGot(m.phones)).toHaveLength(0);
    expect((await rows(m.id)).every((r) => r.provider === 'web' && r.attempts >= 2)).toBe(true);
  });

  it('should keep every mailing flowing while one provider is down', async () => {
    await smsc.refuse();
    await waitFor(async () => (await providerStates()).find((x) => x.name === 'smsc')?.state === 'DOWN', 5_000, 'smsc DOWN');
    const a = await mailingTo(10, '916');
    const b = await mailingTo(10, '930');
    for (const m of [a, b]) expect((await untilMailingStatus(herald, m.id, 'COMPLETED', 10_000)).stats).toMatchObject({ total: 10, sent: 10 });
    expect(webGot(a.phones)).toHaveLength(10);
    await smsc.accept();
  });

  it('should never show a secret in the providers query', async () => {
    const res = await herald.gql(PROVIDERS_QUERY);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(GATEWAY_TOKEN);
    expect(res.body.data.providers.map((p: { name: string; type: string }) => [p.name, p.type])).toEqual([['smsc', 'SMPP'], ['web', 'HTTP']]);
    expect(herald.rawLog.some((line) => line.includes(PASSWORD) || line.includes(GATEWAY_TOKEN))).toBe(false);
  });
});
