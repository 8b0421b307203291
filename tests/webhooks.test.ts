import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { createMailing, insertClients, untilMailingStatus } from './support/fixtures';
import { createTestDatabase, onlyError, startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';
import { clientOf, spawnReady } from './support/process';
import { sleep, waitFor } from './support/wait';

// Webhooks as a receiver meets them: a real node:http server on port 0 that checks every
// signature with the standardwebhooks library, against a real Herald over real PostgreSQL.

type Received = { id: string; timestamp: string; body: string; payload: any; attempt: number; at: number };

/** An HTTP receiver; `answer(id, attempt)` picks the status of each attempt (1-based per webhook-id). */
async function receiver(opts: { answer?: (id: string, attempt: number) => number; delayMs?: number } = {}) {
  const attempts = new Map<string, number>();
  const all: Received[] = [];
  const badSignatures: string[] = [];
  let secret: string | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const headers = req.headers as IncomingHttpHeaders & Record<string, string>;
      const id = headers['webhook-id'];
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      try {
        if (!secret) throw new Error('no secret yet');
        new StandardWebhook(secret).verify(body, { 'webhook-id': id, 'webhook-timestamp': headers['webhook-timestamp'], 'webhook-signature': headers['webhook-signature'] });
      } catch (err) {
        badSignatures.push(`${id}: ${(err as Error).message}`);
      }
      all.push({ id, timestamp: headers['webhook-timestamp'], body, payload: JSON.parse(body), attempt, at: Date.now() });
      const status = opts.answer?.(id, attempt) ?? 200;
      setTimeout(() => res.writeHead(status).end(), opts.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    all,
    badSignatures,
    setSecret: (s: string) => void (secret = s),
    /** the events answered 2xx, first success of each webhook-id, in order of arrival */
    delivered: () => {
      const seen = new Set<string>();
      const out: Received[] = [];
      for (const r of all) {
        if ((opts.answer?.(r.id, r.attempt) ?? 200) >= 300 || seen.has(r.id)) continue;
        seen.add(r.id);
        out.push(r);
      }
      return out;
    },
    /** distinct webhook-ids in the order first seen */
    firstSeen: () => [...new Set(all.map((r) => r.id))],
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id url events description enabled disabledReason } } }`;
const DELIVERIES = `query($id: ID!) { webhook(id: $id) { enabled disabledReason pendingDeliveries failedDeliveries deliveries(first: 500) { totalCount edges { node { eventId type status attempts lastError payload deliveredAt nextAttemptAt createdAt } } } } }`;

const webhookTimings = (over: Partial<ReturnType<typeof loadConfig>['webhooks']> = {}) => ({
  ...loadConfig({}).webhooks,
  pollMs: 20,
  retryBaseMs: 20,
  retryMaxMs: 100,
  timeoutMs: 1_000,
  ...over,
});

async function createHook(herald: Pick<TestHerald, 'ok'>, rx: Awaited<ReturnType<typeof receiver>>, events: string[], description?: string) {
  const { createWebhook } = await herald.ok(CREATE, { input: { url: rx.url, events, description } });
  rx.setSecret(createWebhook.secret);
  return createWebhook as { secret: string; webhook: { id: string } };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('webhooks', () => {
  it('should create, list, update, test and delete webhooks, admins only, with the secret shown once', async () => {
    const herald = await startTestHerald({ webhooks: webhookTimings() });
    cleanups.push(() => herald.stop());
    const rx = await receiver();
    cleanups.push(rx.stop);
    const created = await createHook(herald, rx, ['MESSAGE_STATUS', 'OPT_OUT'], 'CRM');
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(created.webhook).toMatchObject({ url: rx.url, events: ['MESSAGE_STATUS', 'OPT_OUT'], description: 'CRM', enabled: true, disabledReason: null });
    const id = created.webhook.id;

    const listed = await herald.ok(`{ webhooks { id url events } }`);
    expect(listed.webhooks).toEqual([{ id, url: rx.url, events: ['MESSAGE_STATUS', 'OPT_OUT'] }]);
    // The secret is nowhere in an answer after creation, nor in the log.
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(herald.rawLog.join('\n')).not.toContain(created.secret.slice(6));

    // Viewers: FORBIDDEN, for reading too.
    for (const query of [`{ webhooks { id } }`, `query { webhook(id: "${id}") { id } }`]) {
      const res = await herald.gql(query, {}, { token: VIEWER_TOKEN });
      expect(onlyError(res).extensions?.code).toBe('FORBIDDEN');
    }
    const viewerCreate = await herald.gql(CREATE, { input: { url: rx.url, events: ['INBOUND'] } }, { token: VIEWER_TOKEN });
    expect(onlyError(viewerCreate).extensions?.code).toBe('FORBIDDEN');

    // Bad input names the field and changes nothing.
    for (const [input, field] of [
      [{ url: 'ftp://example.com/x', events: ['INBOUND'] }, 'url'],
      [{ url: 'not a url', events: ['INBOUND'] }, 'url'],
      [{ url: rx.url, events: [] }, 'events'],
    ] as const) {
      const res = await herald.gql(CREATE, { input });
      expect(onlyError(res).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect((await herald.ok(`{ webhooks { id } }`)).webhooks).toHaveLength(1);
    expect(onlyError(await herald.gql(`mutation { updateWebhook(id: "999999", input: { enabled: false }) { id } }`)).extensions?.code).toBe('NOT_FOUND');
    expect(onlyError(await herald.gql(`mutation { deleteWebhook(id: "999999") }`)).extensions?.code).toBe('NOT_FOUND');
    expect(onlyError(await herald.gql(`mutation { testWebhook(id: "999999") { eventId } }`)).extensions?.code).toBe('NOT_FOUND');
    expect((await herald.ok(`{ webhook(id: "999999") { id } }`)).webhook).toBeNull();

    const updated = await herald.ok(`mutation($id: ID!) { updateWebhook(id: $id, input: { events: [INBOUND], description: "CRM 2" }) { events description } }`, { id });
    expect(updated.updateWebhook).toEqual({ events: ['INBOUND'], description: 'CRM 2' });

    // testWebhook: a TEST event for this webhook only, signed, delivered.
    const test = await herald.ok(`mutation($id: ID!) { testWebhook(id: $id) { eventId type status attempts payload } }`, { id });
    expect(test.testWebhook).toMatchObject({ type: 'TEST', status: 'PENDING', attempts: 0 });
    expect(JSON.parse(test.testWebhook.payload)).toMatchObject({ id: test.testWebhook.eventId, type: 'TEST', data: { webhookId: id } });
    await waitFor(() => rx.all.length === 1, 10_000, 'the test event');
    expect(rx.badSignatures).toEqual([]);
    expect(rx.all[0].id).toBe(test.testWebhook.eventId);
    expect(rx.all[0].body).toBe(test.testWebhook.payload);
    const after = await waitFor(async () => {
      const w = (await herald.ok(DELIVERIES, { id })).webhook;
      // Both read afresh: the count and the page are separate statements.
      return w.deliveries.edges[0]?.node.status === 'DELIVERED' && w.pendingDeliveries === 0 && w;
    });
    expect(after.deliveries.edges[0].node).toMatchObject({ eventId: test.testWebhook.eventId, attempts: 1, lastError: null, nextAttemptAt: null });

    // INBOUND (now its only event): a reply as the inbound service keeps it, a row of inbound_messages.
    await herald.sql`insert into inbound_messages (provider, from_phone, text, client_id, action) values ('smsc', '79990003344', 'STOP', 42, 'OPTED_OUT')`;
    await waitFor(() => rx.all.some((r) => r.payload.type === 'INBOUND'), 10_000, 'the INBOUND event');
    expect(rx.all.find((r) => r.payload.type === 'INBOUND')!.payload.data).toMatchObject({
      id: expect.any(String), from: '79990003344', text: 'STOP', provider: 'smsc', clientId: '42', action: 'OPTED_OUT',
    });
    // Not subscribed any more: an opt-out is not sent.
    await herald.ok(`mutation { optOut(phone: "79990003355") }`);
    await sleep(300);
    expect(rx.all.filter((r) => r.payload.type === 'OPT_OUT')).toEqual([]);
    expect(rx.badSignatures).toEqual([]);

    expect((await herald.ok(`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id })).deleteWebhook).toBe(true);
    expect((await herald.ok(`{ webhooks { id } }`)).webhooks).toEqual([]);
  });

  it('should deliver every event once, signed, in order, through a receiver failing the first three attempts of each', async () => {
    const rx = await receiver({ answer: (_id, attempt) => (attempt <= 3 ? 500 : 204) });
    cleanups.push(rx.stop);
    // Window 1: the order the receiver sees is the order of dispatch.
    const herald = await startTestHerald({ webhooks: webhookTimings({ window: 1 }) });
    cleanups.push(() => herald.stop());
    const hook = await createHook(herald, rx, ['MESSAGE_STATUS', 'MAILING_STATUS', 'OPT_OUT']);

    const tag = `wh${Math.random().toString(36).slice(2, 8)}`;
    const clientIds = await insertClients(herald, 20, { tags: [tag] });
    const mailing = await createMailing(herald, { filter: { tags: [tag] } });
    await untilMailingStatus(herald, mailing.id, 'COMPLETED', 30_000);
    await herald.ok(`mutation { optOut(phone: "79990001122", reason: "asked") }`);
    await herald.ok(`mutation { optIn(phone: "79990001122") }`);

    const events = await herald.sql<{ id: string; type: string }[]>`select e.id::text as id, e.type from webhook_events e order by e.id`;
    await waitFor(() => rx.delivered().length === events.length, 30_000, 'every event delivered');
    await sleep(200);
    expect(rx.badSignatures).toEqual([]);
    // Each event seen 4 times (3 failures, 1 success), once after de-duplication, in event order.
    expect(rx.delivered().map((r) => r.id)).toEqual(events.map((e) => `evt_${e.id}`));
    expect(rx.firstSeen()).toEqual(events.map((e) => `evt_${e.id}`));
    expect(rx.all).toHaveLength(events.length * 4);
    // A retry carries the same webhook-id and body.
    for (const r of rx.all) expect(r.body).toBe(rx.all.find((x) => x.id === r.id)!.body);

    const payloads = rx.delivered().map((r) => r.payload);
    const messageEvents = payloads.filter((p) => p.type === 'MESSAGE_STATUS');
    // Every message's final status, once (the simulator takes them all: SENT).
    expect(messageEvents).toHaveLength(20);
    expect(new Set(messageEvents.map((p) => p.data.clientId))).toEqual(new Set(clientIds.map(String)));
    for (const p of messageEvents) {
      expect(p.data).toMatchObject({ mailingId: mailing.id, status: 'SENT', error: null });
      expect(typeof p.data.messageId).toBe('string');
      expect(p.data.phone).toMatch(/^7\d{10}$/);
      expect(new Date(p.timestamp).toISOString()).toBe(p.timestamp);
    }
    const mailingEvents = payloads.filter((p) => p.type === 'MAILING_STATUS').map((p) => [p.data.previousStatus, p.data.status]);
    expect(mailingEvents[0]).toEqual([null, expect.any(String)]);
    expect(mailingEvents.at(-1)).toEqual([expect.any(String), 'COMPLETED']);
    const optOuts = payloads.filter((p) => p.type === 'OPT_OUT').map((p) => p.data);
    expect(optOuts).toEqual([
      expect.objectContaining({ phone: '79990001122', optedOut: true, reason: 'asked' }),
      expect.objectContaining({ phone: '79990001122', optedOut: false }),
    ]);

    const w = (await herald.ok(DELIVERIES, { id: hook.webhook.id })).webhook;
    expect(w.deliveries.totalCount).toBe(events.length);
    expect(w.deliveries.edges.every((e: any) => e.node.status === 'DELIVERED' && e.node.attempts === 4 && e.node.lastError === null)).toBe(true);
    // Newest first.
    expect(w.deliveries.edges.map((e: any) => e.node.eventId)).toEqual(events.map((e) => `evt_${e.id}`).reverse());
  });

  it('should not let a failing, slow webhook slow another, and disable it after the retry period with the reason', async () => {
    const herald = await startTestHerald({ webhooks: webhookTimings({ retryForMs: 1_500, timeoutMs: 500 }) });
    cleanups.push(() => herald.stop());
    const bad = await receiver({ answer: () => 503, delayMs: 700 });
    const good = await receiver();
    cleanups.push(bad.stop, good.stop);
    const badHook = await createHook(herald, bad, ['OPT_OUT']);
    const goodHook = await createHook(herald, good, ['OPT_OUT']);
    for (let i = 0; i < 30; i++) await herald.ok(`mutation($p: String!) { optOut(phone: $p) }`, { p: `7999100${String(i).padStart(4, '0')}` });
    const written = Date.now();
    await waitFor(() => good.delivered().length === 30, 10_000, 'the good webhook to get every event');
    // Sharing the bad one's turn, the good one would wait 500 ms (its timeout) per event.
    expect(Date.now() - written).toBeLessThan(2_000);
    expect(good.badSignatures).toEqual([]);

    // Polled with a cheap query: 500 deliveries a poll every 25 ms spends the token's cost budget (RATE_LIMITED).
    const failing = Date.now();
    await waitFor(async () => !(await herald.ok(`query($id: ID!) { webhook(id: $id) { enabled } }`, { id: badHook.webhook.id })).webhook.enabled, 30_000, 'the failing webhook to be disabled');
    // Failing for retryForMs (1.5 s) disables it: a few rounds of 500 ms timeouts.
    console.log(`good webhook got all 30 in ${failing - written} ms; the bad one disabled ${Date.now() - failing} ms later`);
    const disabled = (await herald.ok(DELIVERIES, { id: badHook.webhook.id })).webhook;
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabledReason).toMatch(/failed .*(no answer in 500 ms|HTTP 503)/);
    expect(disabled.deliveries.edges.at(-1).node).toMatchObject({ lastError: expect.stringMatching(/no answer in 500 ms|HTTP 503/) });
    expect((await herald.ok(DELIVERIES, { id: goodHook.webhook.id })).webhook.enabled).toBe(true);
    const seen = bad.all.length;
    await sleep(500);
    expect(bad.all.length).toBe(seen); // disabled: nothing more is sent

    // Re-enabled: its reason goes, and it is tried again.
    const re = await herald.ok(`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: true }) { enabled disabledReason } }`, { id: badHook.webhook.id });
    expect(re.updateWebhook).toEqual({ enabled: true, disabledReason: null });
    // Its own waits bound it (10 s and 30 s): past them, their message says which one.
  }, 60_000);

  it('should disable a webhook whose every owed delivery gave up at once (nothing left due for a round to look at)', async () => {
    // Events written while no worker runs are older than the retry period when one starts:
    // its first round gives every one up. Failing since then, the webhook is disabled once
    // the period has passed, though no delivery is due any more.
    const api = await startTestHerald({ role: 'api', webhooks: webhookTimings({ retryForMs: 1_000 }) });
    cleanups.push(() => api.stop());
    const bad = await receiver({ answer: () => 503 });
    cleanups.push(bad.stop);
    const hook = await createHook(api, bad, ['OPT_OUT']);
    for (let i = 0; i < 5; i++) await api.ok(`mutation($p: String!) { optOut(phone: $p) }`, { p: `7999300${String(i).padStart(4, '0')}` });
    await sleep(1_200);
    const worker = await startTestHerald({ role: 'worker', databaseUrl: api.databaseUrl, webhooks: webhookTimings({ retryForMs: 1_000, window: 8 }) });
    cleanups.push(() => worker.stop());
    await waitFor(async () => (await api.ok(DELIVERIES, { id: hook.webhook.id })).webhook.pendingDeliveries === 0, 10_000, 'every delivery given up');
    expect(new Set(bad.all.map((r) => r.id)).size).toBe(5);
    const w = await waitFor(async () => {
      const { webhook } = await api.ok(DELIVERIES, { id: hook.webhook.id });
      return !webhook.enabled && webhook;
    }, 5_000, 'the webhook disabled');
    expect(w.disabledReason).toBe('deliveries failed for 1 s (last: HTTP 503)');
    expect(w.deliveries.edges.every((e: any) => e.node.status === 'FAILED' && e.node.attempts === 1)).toBe(true);
  });

  it('should refuse loopback and private URLs in production unless WEBHOOK_ALLOW_PRIVATE', async () => {
    const prod = await startTestHerald({ nodeEnv: 'production', webhooks: webhookTimings() });
    cleanups.push(() => prod.stop());
    for (const url of ['http://127.0.0.1:9/x', 'http://localhost/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://192.168.0.10/x', 'http://[::ffff:127.0.0.1]/x']) {
      const res = await prod.gql(CREATE, { input: { url, events: ['INBOUND'] } });
      expect(onlyError(res).extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    }
    expect((await prod.ok(`{ webhooks { id } }`)).webhooks).toEqual([]);
    const allowed = await startTestHerald({ nodeEnv: 'production', webhooks: webhookTimings({ allowPrivate: true }) });
    cleanups.push(() => allowed.stop());
    await allowed.ok(CREATE, { input: { url: 'http://127.0.0.1:9/x', events: ['INBOUND'] } });
  });

  it('should deliver, after a kill -9, every event that was not yet delivered', async () => {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    // Slow answers: the process is killed with events owed and requests in flight.
    const rx = await receiver({ delayMs: 50 });
    cleanups.push(rx.stop);
    const env = { DATABASE_URL: db.url, NODE_ENV: 'test', LOG_LEVEL: 'info', WEBHOOK_POLL_MS: '20', WEBHOOK_WINDOW: '4', WEBHOOK_TIMEOUT_MS: '1000' };
    // What the killed process had leased is due again when its lease ends (ROUND_MS + timeout + 5 s: 11 s).
    const first = await spawnReady(env);
    cleanups.push(async () => {
      first.proc.child.kill('SIGKILL');
      await first.proc.exited;
    });
    const api = clientOf(first.url);
    const { createWebhook } = await api.ok(CREATE, { input: { url: rx.url, events: ['OPT_OUT'] } });
    rx.setSecret(createWebhook.secret);
    for (let i = 0; i < 200; i++) await api.ok(`mutation($p: String!) { optOut(phone: $p) }`, { p: `7999200${String(i).padStart(4, '0')}` });
    await waitFor(() => rx.all.length >= 10, 10_000, 'some deliveries');
    first.proc.child.kill('SIGKILL');
    await first.proc.exited;
    const before = new Set(rx.all.map((r) => r.id)).size;
    expect(before).toBeLessThan(200);

    const second = await spawnReady(env);
    cleanups.push(async () => {
      second.proc.child.kill('SIGKILL');
      await second.proc.exited;
    });
    await waitFor(() => new Set(rx.all.map((r) => r.id)).size === 200, 30_000, 'every event after the restart');
    expect(rx.badSignatures).toEqual([]);
    const w = (await clientOf(second.url).ok(DELIVERIES, { id: createWebhook.webhook.id })).webhook;
    await waitFor(async () => (await clientOf(second.url).ok(DELIVERIES, { id: createWebhook.webhook.id })).webhook.pendingDeliveries === 0, 10_000, 'nothing pending');
    expect(w.deliveries.totalCount).toBe(200);
  }, 120_000);
});
