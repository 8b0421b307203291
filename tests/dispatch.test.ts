import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR, type GatewaySimulator } from '../src/gateway/simulator';
import { createMailing as createMailingFor, inMs, insertClients, mailingState, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { startTestHerald, type TestHerald } from './support/herald';
import { sleep, waitFor } from './support/wait';

// One Herald and one gateway simulator for the file; tests run one after another and each
// waits for its own mailing to finish, so a behaviour set on the gateway is the test's own.
let herald: TestHerald;
let gateway: GatewaySimulator;

beforeAll(async () => {
  const gw = await startTestGateway();
  gateway = gw.simulator;
  herald = await startTestHerald({ ...gw.config, dispatch: { concurrency: 10, requestTimeoutMs: 800, leaseMs: 3_000 } });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});
afterEach(() => gateway.set(DEFAULT_BEHAVIOUR));

const createMailing = (input: Record<string, unknown>) => createMailingFor(herald, input);
const stateOf = (id: string) => mailingState(herald, id);
const untilStatus = (id: string, status: string, timeoutMs = 10_000) => untilMailingStatus(herald, id, status, timeoutMs);

async function messagesOf(mailingId: string) {
  return herald.sql`select id, client_id, phone, status, attempts, last_error, sent_at, next_attempt_at from messages where mailing_id = ${mailingId} order by id`;
}

async function receivedFor(mailingId: string) {
  const ids = new Set((await messagesOf(mailingId)).map((r) => Number(r.id)));
  return gateway.received.filter((r) => ids.has(r.msgId));
}

const taggedClients = async (n: number, extra: { operatorCode?: string; timezone?: string; tags?: string[] } = {}) => {
  const tag = `t${Math.random().toString(36).slice(2, 10)}`;
  const ids = await insertClients(herald, n, { ...extra, tags: [tag, ...(extra.tags ?? [])] });
  return { tag, ids };
};

describe('starting', () => {
  it('should send one message to every matching client at once when startAt has come', async () => {
    const { tag, ids } = await taggedClients(25);
    await insertClients(herald, 5, { tags: ['someone-else'] });
    const mailing = await createMailing({ text: 'Sale today', filter: { tags: [tag] } });

    const done = await untilStatus(mailing.id, 'COMPLETED');
    expect(done.stats).toMatchObject({ total: 25, sent: 25, pending: 0, failed: 0 });
    const rows = await messagesOf(mailing.id);
    expect(rows.map((r) => Number(r.client_id)).sort((a, b) => a - b)).toEqual(ids);
    expect(rows.every((r) => r.status === 'SENT' && r.attempts === 1 && r.sent_at && r.last_error === null)).toBe(true);
    const received = await receivedFor(mailing.id);
    expect(received).toHaveLength(25);
    for (const r of received) {
      const row = rows.find((x) => Number(x.id) === r.msgId)!;
      expect(r).toMatchObject({ phone: Number(row.phone), text: 'Sale today', status: 200 });
    }
  });

  it('should start by itself when a future startAt comes, not before, and within 2 s of it', async () => {
    const { tag } = await taggedClients(3);
    const startAt = Date.now() + 1_500;
    const mailing = await createMailing({ filter: { tags: [tag] }, startAt: new Date(startAt).toISOString() });
    expect(mailing.status).toBe('SCHEDULED');
    await untilStatus(mailing.id, 'COMPLETED', 8_000);
    const first = Math.min(...(await receivedFor(mailing.id)).map((r) => r.at));
    expect(first).toBeGreaterThanOrEqual(startAt);
    expect(first - startAt).toBeLessThan(2_000);
  });

  it('should follow a moved startAt and start only once', async () => {
    const { tag } = await taggedClients(3);
    const mailing = await createMailing({ filter: { tags: [tag] }, startAt: inMs(60_000), endAt: inMs(120_000) });
    const startAt = Date.now() + 1_000;
    await herald.ok(`mutation($id: ID!, $s: DateTime!) { updateMailing(id: $id, input: { startAt: $s }) { id } }`, {
      id: mailing.id,
      s: new Date(startAt).toISOString(),
    });
    await untilStatus(mailing.id, 'COMPLETED', 8_000);
    const received = await receivedFor(mailing.id);
    expect(received).toHaveLength(3);
    expect(Math.min(...received.map((r) => r.at)) - startAt).toBeLessThan(2_000);
    const starts = herald.logs.filter((l) => l.msg === 'mailing started' && String(l.mailingId) === mailing.id);
    expect(starts).toHaveLength(1);
  });

  it('should never start a mailing whose end has passed', async () => {
    const { tag } = await taggedClients(2);
    // As if Herald had been down for the mailing's whole period.
    const [row] = await herald.sql`
      insert into mailings (text, start_at, end_at, filter_tags)
      values ('too late', now() - interval '2 hours', now() - interval '1 hour', ${[tag]}::text[]) returning id`;
    const id = String(row.id);
    await untilStatus(id, 'COMPLETED', 5_000);
    expect(await messagesOf(id)).toEqual([]);
  });

  it('should choose the audience by operator codes and tags (ALL)', async () => {
    const tag = `f${Date.now()}`;
    const wanted = await insertClients(herald, 2, { operatorCode: '901', tags: [tag, 'vip'] });
    await insertClients(herald, 2, { operatorCode: '902', tags: [tag, 'vip'] }); // wrong operator
    await insertClients(herald, 2, { operatorCode: '901', tags: [tag] }); // lacks vip
    const mailing = await createMailing({ filter: { operatorCodes: ['901'], tags: [tag, 'vip'], tagMatch: 'ALL' } });
    await untilStatus(mailing.id, 'COMPLETED');
    expect((await messagesOf(mailing.id)).map((r) => Number(r.client_id)).sort((a, b) => a - b)).toEqual(wanted);
  });

  it('should complete at once a mailing that matches nobody', async () => {
    const mailing = await createMailing({ filter: { tags: ['nobody-has-this-tag'] } });
    const done = await untilStatus(mailing.id, 'COMPLETED', 5_000);
    expect(done.stats.total).toBe(0);
  });
});

describe('gateway outcomes', () => {
  it('should mark a message FAILED at once on 400 and not retry it', async () => {
    gateway.set({ forceStatus: 400 });
    const { tag } = await taggedClients(3);
    const mailing = await createMailing({ filter: { tags: [tag] } });
    const done = await untilStatus(mailing.id, 'COMPLETED');
    expect(done.stats).toMatchObject({ total: 3, failed: 3, sent: 0 });
    await sleep(300);
    expect(await receivedFor(mailing.id)).toHaveLength(3);
    for (const row of await messagesOf(mailing.id)) expect(row).toMatchObject({ status: 'FAILED', attempts: 1, last_error: expect.stringMatching(/^400/) });
  });

  it.each([
    ['5xx answers', { errorRate: 1 }, /^500/],
    ['bodies that are not the documented JSON', { malformedRate: 1 }, /not JSON/],
    ['no answer in time', { hang: true }, /no answer within/],
  ])('should retry after %s with backoff until the gateway recovers', async (_name, behaviour, error) => {
    gateway.set(behaviour);
    const { tag } = await taggedClients(3);
    const mailing = await createMailing({ filter: { tags: [tag] } });
    await waitFor(async () => {
      const rows = await messagesOf(mailing.id);
      return rows.length === 3 && rows.every((r) => r.attempts >= 2);
    }, 8_000, 'two attempts each');
    // An attempt hanging at this instant times out as the others did (a cut socket would
    // record another error as its last).
    gateway.set(DEFAULT_BEHAVIOUR, { keepHung: true });
    await untilStatus(mailing.id, 'COMPLETED');
    for (const row of await messagesOf(mailing.id)) {
      expect(row.status).toBe('SENT');
      expect(row.attempts).toBeGreaterThanOrEqual(3);
      expect(row.last_error).toMatch(error);
    }
    // Each message's retries were spaced out, not hammered: at least 50 ms apart (base 100 ms, half jittered).
    const received = await receivedFor(mailing.id);
    for (const id of new Set(received.map((r) => r.msgId))) {
      const times = received.filter((r) => r.msgId === id).map((r) => r.at);
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(45);
    }
  });

  it('should stop sending everywhere on 401, say so on /readyz, and resume when the gateway accepts Herald again', async () => {
    gateway.set({ forceStatus: 401 });
    const { tag } = await taggedClients(5);
    const mailing = await createMailing({ filter: { tags: [tag] } });
    const readyz = await waitFor(async () => {
      const res = await fetch(`${herald.url}/readyz`);
      return res.status === 503 && ((await res.json()) as any);
    }, 5_000, '/readyz 503');
    expect(readyz.failing.gateway).toMatch(/refuses Herald's token/);
    await sleep(1_000);
    // While refused: the messages stay PENDING and only probes go out (one at a time, every 300 ms).
    const whileRefused = (await receivedFor(mailing.id)).length;
    expect(whileRefused).toBeLessThanOrEqual(10);
    expect((await stateOf(mailing.id)).stats.pending).toBe(5);
    expect(herald.rawLog.some((l) => l.includes('"level":50') && l.includes('refuses Herald'))).toBe(true);

    gateway.set(DEFAULT_BEHAVIOUR);
    await untilStatus(mailing.id, 'COMPLETED');
    expect((await fetch(`${herald.url}/readyz`)).status).toBe(200);
  });

  it('should wait as long as Retry-After says on 429', async () => {
    gateway.set({ forceStatus: 429, retryAfterSeconds: 1 });
    const { tag } = await taggedClients(1);
    const mailing = await createMailing({ filter: { tags: [tag] } });
    await waitFor(async () => (await receivedFor(mailing.id)).length >= 1, 5_000, 'a first request');
    gateway.set(DEFAULT_BEHAVIOUR);
    await untilStatus(mailing.id, 'COMPLETED');
    const times = (await receivedFor(mailing.id)).map((r) => r.at);
    expect(times).toHaveLength(2);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(1_000);
  });

  it('should stop the flood while the gateway is down (circuit breaker) and probe until it is back', async () => {
    const { tag } = await taggedClients(40);
    gateway.set({ down: true });
    const before = gateway.connectionCount;
    const mailing = await createMailing({ filter: { tags: [tag] } });
    await sleep(2_000);
    const attempts = gateway.connectionCount - before;
    // Without the breaker: 40 messages retried every 50–1000 ms for 2 s, well over 100
    // connections. With it: the threshold (10) and then one probe per cooldown.
    expect(attempts).toBeGreaterThan(0);
    expect(attempts).toBeLessThan(40);
    expect(herald.logs.some((l) => l.msg.startsWith('gateway circuit breaker opened'))).toBe(true);
    gateway.set(DEFAULT_BEHAVIOUR);
    await untilStatus(mailing.id, 'COMPLETED', 15_000);
    expect(herald.logs.some((l) => l.msg === 'gateway circuit breaker closed')).toBe(true);
  });
});

describe('the end is the end', () => {
  it('should send nothing at or after endAt while retrying, and expire what is left', async () => {
    gateway.set({ errorRate: 1 });
    const { tag } = await taggedClients(5);
    const endAt = Date.now() + 1_500;
    const mailing = await createMailing({ filter: { tags: [tag] }, endAt: new Date(endAt).toISOString() });
    const done = await untilStatus(mailing.id, 'COMPLETED', 6_000);
    await sleep(500);
    const received = await receivedFor(mailing.id);
    expect(received.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...received.map((r) => r.at))).toBeLessThan(endAt);
    expect(done.stats).toMatchObject({ total: 5, expired: 5, pending: 0 });
  });

  it('should cut a slow request off at endAt and send nothing after it', async () => {
    gateway.set({ latencyMs: 5_000 });
    const { tag } = await taggedClients(3);
    const endAt = Date.now() + 1_000;
    const mailing = await createMailing({ filter: { tags: [tag] }, endAt: new Date(endAt).toISOString() });
    const done = await untilStatus(mailing.id, 'COMPLETED', 6_000);
    await sleep(1_000);
    const received = await receivedFor(mailing.id);
    expect(Math.max(...received.map((r) => r.at))).toBeLessThan(endAt);
    expect(done.stats).toMatchObject({ total: 3, expired: 3 });
    expect(Date.now() - endAt).toBeLessThan(4_500); // finished without waiting for the 5 s answers
  });
});

describe('logs', () => {
  it('should log every attempt with mailingId, messageId, clientId, attempt, outcome and duration', async () => {
    const { tag } = await taggedClients(2);
    const mailing = await createMailing({ filter: { tags: [tag] } });
    await untilStatus(mailing.id, 'COMPLETED');
    const rows = await messagesOf(mailing.id);
    for (const row of rows) {
      const line = herald.logs.find((l) => l.messageId === Number(row.id) && l.msg === 'message sent');
      expect(line).toMatchObject({ mailingId: Number(mailing.id), clientId: Number(row.client_id), attempt: 1, outcome: 'sent', durationMs: expect.any(Number) });
    }
    const lifecycle = herald.logs.filter((l) => String(l.mailingId) === mailing.id && !l.messageId).map((l) => l.msg);
    expect(lifecycle).toEqual(expect.arrayContaining(['mailing created', 'mailing started', 'mailing completed: every message reached a final status']));
  });
});
