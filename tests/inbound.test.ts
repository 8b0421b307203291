import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startHerald, type Herald } from '../src/main';
import { parseProvidersFile } from '../src/providers/providers.file';
import { CREATE_MAILING, inMs, insertClients, phonesOf, untilMailingStatus } from './support/fixtures';
import { GATEWAY_TOKEN, startTestGateway } from './support/gateway';
import { onlyError, startTestHerald, testConfig, VIEWER_TOKEN, type TestHerald } from './support/herald';
import { subscribe } from './support/live';
import { waitFor } from './support/wait';

// Issue 19, item 3: replies posted by a provider (POST /providers/<name>/inbound), kept and
// listed, STOP and START acting on the opt-outs, over real HTTP, websocket and PostgreSQL.

const REPLY_TOKEN = 'reply-token-for-tests-0123456789';
const PROVIDERS = `{
  "providers": [
    { "name": "web", "type": "http", "url": "\${WEB_URL}", "token": "\${WEB_TOKEN}", "receiptToken": "${REPLY_TOKEN}" },
    { "name": "quiet", "type": "http", "url": "\${WEB_URL}", "token": "\${WEB_TOKEN}" }
  ],
  "routes": [{ "providers": ["web"] }]
}`;

let herald: TestHerald;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let providers: ReturnType<typeof parseProvidersFile>;

beforeAll(async () => {
  gateway = await startTestGateway({ latencyMs: 2 });
  providers = parseProvidersFile(PROVIDERS, { WEB_URL: gateway.url, WEB_TOKEN: GATEWAY_TOKEN });
  herald = await startTestHerald({ providers });
}, 60_000);

afterAll(async () => {
  await herald?.stop();
  await gateway?.simulator.stop();
});

async function post(body: unknown, opts: { provider?: string; token?: string | null; raw?: string; url?: string } = {}) {
  const token = opts.token === undefined ? REPLY_TOKEN : opts.token;
  const res = await fetch(`${opts.url ?? herald.url}/providers/${opts.provider ?? 'web'}/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: opts.raw ?? JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const tagged = () => `r${Math.random().toString(36).slice(2, 10)}`;
async function newClient(tag = tagged()) {
  const [id] = await insertClients(herald, 1, { tags: [tag] });
  return { id, phone: String([...(await phonesOf(herald, [id]))][0]), tag };
}
/** 79161234567 as a person types it: +7 (916) 123-45-67 */
const typed = (phone: string) => `+7 (${phone.slice(1, 4)}) ${phone.slice(4, 7)}-${phone.slice(7, 9)}-${phone.slice(9)}`;

const INBOUND = `query($phone: String, $first: Int, $after: String) {
  inboundMessages(phone: $phone, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id from text receivedAt provider action client { id phone } } }
  }
}`;
const inbound = async (phone: string, extra: Record<string, unknown> = {}, token?: string) =>
  (await herald.ok(INBOUND, { phone, ...extra }, token ? { token } : {})).inboundMessages;
const optOutOf = async (phone: string) => (await herald.sql`select reason from opt_outs where phone = ${phone}`)[0] ?? null;
const keptCount = async () => (await herald.sql`select count(*)::int as n from inbound_messages`)[0].n as number;

describe('replies over HTTP', () => {
  it.each([
    ['STOP', (p: string) => p],
    ['stop', (p: string) => typed(p)],
    ['  Stop   all ', (p: string) => `8${p.slice(1)}`],
    ['СТОП', (p: string) => `+${p}`],
    ['стоп', (p: string) => `8 ${p.slice(1, 4)} ${p.slice(4, 7)} ${p.slice(7, 9)} ${p.slice(9)}`],
    ['Отписаться', (p: string) => p],
  ])('should opt the phone out on %j (from as given: normalised), with the reason STOP by SMS', async (text, format) => {
    const client = await newClient();
    const res = await post({ from: format(client.phone), text });
    expect(res).toEqual({ status: 200, body: { results: [{ action: 'OPTED_OUT' }] } });
    expect(await optOutOf(client.phone)).toEqual({ reason: 'STOP by SMS' });
    const listed = await inbound(client.phone);
    expect(listed.totalCount).toBe(1);
    expect(listed.edges[0].node).toMatchObject({ from: client.phone, text, provider: 'web', action: 'OPTED_OUT', client: { id: String(client.id), phone: client.phone } });
    const opted = (await herald.ok(`query($p: String) { optOuts(phone: $p) { edges { node { phone reason } } } }`, { p: client.phone })).optOuts;
    expect(opted.edges.map((e: any) => e.node)).toEqual([{ phone: client.phone, reason: 'STOP by SMS' }]);
    // Logged with the provider and the client, never with the phone (a contact, not an id).
    const line = herald.logs.find((l) => l.msg === 'reply opted its phone out' && l.clientId === client.id);
    expect(line).toMatchObject({ provider: 'web', inboundId: Number(listed.edges[0].node.id), action: 'OPTED_OUT' });
    expect(herald.rawLog.filter((l) => l.includes(client.phone.slice(1)))).toEqual([]);
  });

  it('should lift the opt-out on START (OPTED_IN), and do nothing on a START with no opt-out', async () => {
    const client = await newClient();
    expect((await post({ from: client.phone, text: 'STOP' })).body.results).toEqual([{ action: 'OPTED_OUT' }]);
    expect((await post({ from: client.phone, text: ' start ' })).body.results).toEqual([{ action: 'OPTED_IN' }]);
    expect(await optOutOf(client.phone)).toBeNull();
    expect((await post({ from: client.phone, text: 'СТАРТ' })).body.results).toEqual([{ action: null }]);
    const listed = await inbound(client.phone);
    expect(listed.edges.map((e: any) => [e.node.text, e.node.action])).toEqual([['СТАРТ', null], [' start ', 'OPTED_IN'], ['STOP', 'OPTED_OUT']]);
  });

  it('should keep any other text with no action, and a phone it cannot read as given (never acted on)', async () => {
    const client = await newClient();
    expect((await post({ from: client.phone, text: 'STOP it, please' })).body.results).toEqual([{ action: null }]);
    expect((await post({ from: client.phone, text: '' })).body.results).toEqual([{ action: null }]);
    expect(await optOutOf(client.phone)).toBeNull();
    expect((await inbound(client.phone)).edges.map((e: any) => [e.node.text, e.node.action, e.node.client?.id])).toEqual([
      ['', null, String(client.id)],
      ['STOP it, please', null, String(client.id)],
    ]);
    const odd = `55${Date.now() % 1e9}`;
    expect((await post({ from: odd, text: 'STOP' })).body.results).toEqual([{ action: null }]);
    expect((await inbound(odd)).edges.map((e: any) => e.node)).toMatchObject([{ from: odd, action: null, client: null }]);
    expect(await herald.sql`select 1 from opt_outs where phone = ${odd}`).toEqual([]);
  });

  it('should show as `client` the client with the phone now: one added after the reply, none once deleted', async () => {
    const [spare] = await insertClients(herald, 1);
    const phone = String([...(await phonesOf(herald, [spare]))][0]);
    await herald.ok(`mutation($id: ID!) { deleteClient(id: $id) }`, { id: String(spare) });
    expect((await post({ from: phone, text: 'who is this?' })).status).toBe(200);
    expect((await inbound(phone)).edges[0].node.client).toBeNull();
    const created = (await herald.ok(`mutation($p: String!) { createClient(input: { phone: $p, timezone: "UTC" }) { id } }`, { p: phone })).createClient;
    expect((await inbound(phone)).edges[0].node.client).toEqual({ id: created.id, phone });
    // Kept as it came: no client then.
    expect((await herald.sql`select client_id from inbound_messages where from_phone = ${phone}`)[0]).toEqual({ client_id: null });
    await herald.ok(`mutation($id: ID!) { deleteClient(id: $id) }`, { id: created.id });
    expect((await inbound(phone)).edges[0].node.client).toBeNull();
  });

  it('should take a batch, one result per reply in order, and the provider time `at`', async () => {
    const a = await newClient();
    const b = await newClient();
    const at = '2026-11-30T10:15:00.000Z';
    const res = await post([
      { from: a.phone, text: 'QUIT', at },
      { from: b.phone, text: 'hello' },
      { from: a.phone, text: 'UNSTOP' },
    ]);
    expect(res).toEqual({ status: 200, body: { results: [{ action: 'OPTED_OUT' }, { action: null }, { action: 'OPTED_IN' }] } });
    expect((await inbound(a.phone)).edges.map((e: any) => [e.node.text, e.node.action])).toEqual([['UNSTOP', 'OPTED_IN'], ['QUIT', 'OPTED_OUT']]);
    expect((await inbound(a.phone)).edges[1].node.receivedAt).toBe(at);
    expect(await optOutOf(a.phone)).toBeNull();
  });

  it('should refuse a wrong or missing token (401), an unknown provider or one without receiptToken (404), keeping nothing', async () => {
    const client = await newClient();
    const before = await keptCount();
    expect(await post({ from: client.phone, text: 'STOP' }, { token: 'not-the-token-0123456789' })).toEqual({ status: 401, body: { error: expect.any(String) } });
    expect((await post({ from: client.phone, text: 'STOP' }, { token: null })).status).toBe(401);
    expect((await post({ from: client.phone, text: 'STOP' }, { provider: 'nobody' })).status).toBe(404);
    expect((await post({ from: client.phone, text: 'STOP' }, { provider: 'quiet' })).status).toBe(404);
    expect(await keptCount()).toBe(before);
    expect(await optOutOf(client.phone)).toBeNull();
    // The token is never in the log.
    expect(herald.rawLog.some((l) => l.includes(REPLY_TOKEN))).toBe(false);
  });

  it('should answer 400 with the reason to a malformed body, and keep nothing of it (not even its good items)', async () => {
    const client = await newClient();
    const before = await keptCount();
    const cases: [unknown, string | undefined, RegExp][] = [
      [undefined, '{"from": ', /not valid JSON/],
      [{ text: 'STOP' }, undefined, /"from" is required/],
      [{ from: client.phone }, undefined, /"text" is required/],
      [{ from: client.phone, text: 'x'.repeat(1601) }, undefined, /at most 1600/],
      [{ from: client.phone, text: 'STOP', at: 'yesterday' }, undefined, /"at" must be an ISO time/],
      ['STOP', undefined, /must be an object/],
      [[], undefined, /empty array/],
      [[{ from: client.phone, text: 'STOP' }, { from: client.phone }], undefined, /^item 1: "text" is required/],
    ];
    for (const [body, raw, reason] of cases) {
      const res = await post(body, { raw });
      expect(res.status, JSON.stringify(body ?? raw)).toBe(400);
      expect(res.body.error).toMatch(reason);
    }
    expect(await keptCount()).toBe(before);
    expect(await optOutOf(client.phone)).toBeNull();
    // 1600 characters are fine.
    expect((await post({ from: client.phone, text: 'y'.repeat(1600) })).status).toBe(200);
  });
});

describe('inboundMessages', () => {
  it('should list newest first, filter by the digits of the phone, and page with cursors', async () => {
    const client = await newClient();
    for (const text of ['one', 'two', 'three', 'four', 'five']) expect((await post({ from: client.phone, text })).status).toBe(200);
    // Ten of its digits: the fixtures' phones are consecutive, so fewer may match a neighbour's.
    const digits = client.phone.slice(1);
    const first = await inbound(digits, { first: 2 });
    expect(first.totalCount).toBe(5);
    expect(first.edges.map((e: any) => e.node.text)).toEqual(['five', 'four']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await inbound(digits, { first: 2, after: first.pageInfo.endCursor });
    expect(second.edges.map((e: any) => e.node.text)).toEqual(['three', 'two']);
    const last = await inbound(digits, { first: 2, after: second.pageInfo.endCursor });
    expect(last.edges.map((e: any) => e.node.text)).toEqual(['one']);
    expect(last.pageInfo.hasNextPage).toBe(false);
    // Every reply of every phone, newest first.
    const all = (await herald.ok(`{ inboundMessages(first: 500) { totalCount edges { node { id } } } }`)).inboundMessages;
    const ids = all.edges.map((e: any) => Number(e.node.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(all.totalCount).toBe(await keptCount());
  });

  it('should be readable by a viewer, refuse no token, and name the field of a bad argument', async () => {
    const client = await newClient();
    await post({ from: client.phone, text: 'hi' });
    expect((await inbound(client.phone, {}, VIEWER_TOKEN)).totalCount).toBe(1);
    expect(onlyError(await herald.gql(`{ inboundMessages { totalCount } }`, {}, { token: null })).extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(onlyError(await herald.gql(`{ inboundMessages(phone: "12a") { totalCount } }`)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'phone' });
    expect(onlyError(await herald.gql(`{ inboundMessages(after: "nope") { totalCount } }`)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe('inboundReceived', () => {
  it('should push each kept reply to subscribers, also one taken by another Herald process', async () => {
    const client = await newClient();
    const live = subscribe<{ inboundReceived: any }>(herald.url, `subscription { inboundReceived { id from text provider action client { id } } }`, {}, VIEWER_TOKEN);
    // A second api process on the same database takes the post: the event crosses by NOTIFY.
    let twin: Herald | undefined;
    try {
      twin = await startHerald(testConfig({ providers, databaseUrl: herald.databaseUrl, role: 'api' }), createLogger('silent'));
      // Until the subscription is surely listening: replies that only it would see.
      await waitFor(async () => {
        await post({ from: client.phone, text: 'ping' });
        return live.events.length > 0;
      }, 10_000, 'the subscription to hear a reply');
      expect((await post({ from: typed(client.phone), text: 'Stop' }, { url: twin.url })).body.results).toEqual([{ action: 'OPTED_OUT' }]);
      const event = await waitFor(() => live.events.find((e) => e.data.inboundReceived.text === 'Stop'), 10_000, 'the STOP event');
      expect(event.data.inboundReceived).toMatchObject({ from: client.phone, provider: 'web', action: 'OPTED_OUT', client: { id: String(client.id) } });
      expect(live.errors).toEqual([]);
    } finally {
      await live.stop();
      await twin?.stop();
    }
  });
});

describe('opt-outs by SMS and mailings', () => {
  const sentTo = (phone: string) => gateway.simulator.received.filter((r) => String(r.phone) === phone);

  it('should leave out of a mailing a phone that sent STOP, and send to it again after START', async () => {
    const tag = tagged();
    const ids = await insertClients(herald, 3, { tags: [tag] });
    const phones = [...(await phonesOf(herald, ids))].map(String);
    const out = phones[1];
    expect((await post({ from: out, text: 'STOP' })).body.results).toEqual([{ action: 'OPTED_OUT' }]);

    const mailing = (await herald.ok(CREATE_MAILING, { input: { text: 'Sale', startAt: inMs(-1000), endAt: inMs(60_000), filter: { tags: [tag] } } })).createMailing;
    expect((await untilMailingStatus(herald, mailing.id, 'COMPLETED', 15_000)).stats).toMatchObject({ total: 2, sent: 2 });
    expect(sentTo(out)).toEqual([]);

    expect((await post({ from: out, text: 'START' })).body.results).toEqual([{ action: 'OPTED_IN' }]);
    const again = (await herald.ok(CREATE_MAILING, { input: { text: 'Sale again', startAt: inMs(-1000), endAt: inMs(60_000), filter: { tags: [tag] } } })).createMailing;
    expect((await untilMailingStatus(herald, again.id, 'COMPLETED', 15_000)).stats).toMatchObject({ total: 3, sent: 3 });
    expect(sentTo(out).map((r) => r.text)).toEqual(['Sale again']);
  });

  it('should skip the message of a phone that sends STOP while its mailing runs', async () => {
    const tag = tagged();
    const ids = await insertClients(herald, 400, { tags: [tag] });
    const lastId = ids.at(-1)!;
    const last = String([...(await phonesOf(herald, [lastId]))][0]);
    // Slow sending (50 in flight, 150 ms each: 400 take over a second), so that the STOP
    // comes after the start and before the last message's turn.
    gateway.simulator.set({ latencyMs: 150 });
    try {
      const mailing = (await herald.ok(CREATE_MAILING, { input: { text: 'Hi', startAt: inMs(-1000), endAt: inMs(60_000), filter: { tags: [tag] } } })).createMailing;
      await waitFor(async () => (await herald.sql`select 1 from messages where mailing_id = ${mailing.id} limit 1`).length > 0, 10_000, 'the mailing to start');
      expect((await post({ from: last, text: 'END' })).body.results).toEqual([{ action: 'OPTED_OUT' }]);
      await untilMailingStatus(herald, mailing.id, 'COMPLETED', 30_000);
      const [row] = await herald.sql`select status, last_error from messages where mailing_id = ${mailing.id} and client_id = ${lastId}`;
      expect(row).toEqual({ status: 'SKIPPED', last_error: 'opted out' });
      expect(sentTo(last)).toEqual([]);
    } finally {
      gateway.simulator.set({ latencyMs: 2 });
    }
  }, 40_000);
});

describe('keywords from configuration', () => {
  it('should use OPT_OUT_KEYWORDS and OPT_IN_KEYWORDS instead of the defaults (any case, Cyrillic too)', async () => {
    const keywords = loadConfig({ OPT_OUT_KEYWORDS: 'halt,  Хватит  ', OPT_IN_KEYWORDS: 'resume now' }).inbound;
    expect(keywords).toEqual({ optOutKeywords: ['HALT', 'ХВАТИТ'], optInKeywords: ['RESUME NOW'] });
    const custom = await startTestHerald({ providers, inbound: keywords });
    try {
      const [id] = await insertClients(custom, 1);
      const phone = String([...(await phonesOf(custom, [id]))][0]);
      const say = async (text: string) => (await post({ from: phone, text }, { url: custom.url })).body.results[0].action;
      expect(await say('STOP')).toBeNull();
      expect(await custom.sql`select 1 from opt_outs where phone = ${phone}`).toEqual([]);
      expect(await say('хватит')).toBe('OPTED_OUT');
      expect((await custom.sql`select reason from opt_outs where phone = ${phone}`)[0]).toEqual({ reason: 'STOP by SMS' });
      expect(await say('START')).toBeNull();
      expect(await say(' Resume   NOW')).toBe('OPTED_IN');
      expect(await custom.sql`select 1 from opt_outs where phone = ${phone}`).toEqual([]);
    } finally {
      await custom.stop();
    }
  }, 60_000);
});
