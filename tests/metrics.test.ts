import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewaySimulator } from '../src/gateway/simulator';
import { createMailing, inMs, insertClients, phonesOf, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';
import { subscribe } from './support/live';
import { parsePrometheus, valueOf } from './support/prometheus';
import { waitFor } from './support/wait';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456';

let herald: TestHerald;
let gateway: GatewaySimulator;

beforeAll(async () => {
  const gw = await startTestGateway();
  gateway = gw.simulator;
  herald = await startTestHerald({
    ...gw.config,
    metrics: { enabled: true, token: METRICS_TOKEN, cacheMs: 0 },
    // The breaker stays closed: this file counts retries, not pauses.
    dispatch: { concurrency: 10, breaker: { window: 1_000, minCalls: 1_000 } },
  });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});

async function scrape(url = herald.url, token: string | null = METRICS_TOKEN) {
  const res = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

describe('GET /metrics', () => {
  it('should count exactly what the gateway received after a mailing with failures and retries', async () => {
    const tag = `m${Math.random().toString(36).slice(2, 10)}`;
    const rejected = await insertClients(herald, 6, { tags: [tag] });
    const flaky = await insertClients(herald, 8, { tags: [tag] });
    await insertClients(herald, 16, { tags: [tag] });
    gateway.set({
      rules: [
        { phones: [...(await phonesOf(herald, rejected))], failTimes: 1_000, failStatus: 400 },
        { phones: [...(await phonesOf(herald, flaky))], failTimes: 2, failStatus: 503 },
      ],
    });
    const before = await scrape();
    const mailing = await createMailing(herald, { text: 'Counted', filter: { tags: [tag] } });
    await untilMailingStatus(herald, mailing.id, 'COMPLETED', 20_000);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);

    const received = gateway.received;
    const byStatus = (s: number) => received.filter((r) => r.status === s).length;
    expect(received).toHaveLength(16 + 6 + 8 * 3);
    expect(delta('herald_gateway_requests_total', { provider: 'default', result: 'sent' })).toBe(byStatus(200));
    expect(delta('herald_gateway_requests_total', { provider: 'default', result: 'rejected' })).toBe(byStatus(400));
    expect(delta('herald_gateway_requests_total', { provider: 'default', result: 'retryable' })).toBe(byStatus(503));
    expect(delta('herald_gateway_request_duration_seconds_count', { provider: 'default' })).toBe(received.length);
    expect(valueOf(after, 'herald_gateway_in_flight', { provider: 'default' })).toBe(0);

    expect(delta('herald_messages_total', { outcome: 'sent' })).toBe(24);
    expect(delta('herald_messages_total', { outcome: 'failed' })).toBe(6);
    expect(delta('herald_messages_total', { outcome: 'retried' })).toBe(byStatus(503));
    expect(delta('herald_messages_total', { outcome: 'expired' })).toBe(0);

    expect(after.some((s) => s.name === 'herald_gateway_breaker_state' && s.labels.provider === 'default')).toBe(true);
    expect(valueOf(after, 'herald_gateway_breaker_state', { provider: 'default' })).toBe(0);
    expect(valueOf(after, 'herald_mailings', { status: 'COMPLETED' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'herald_messages_due')).toBe(0);
  });

  it("should show a running mailing's unsent messages and time left, and the queue depth", async () => {
    const tag = `w${Math.random().toString(36).slice(2, 10)}`;
    await insertClients(herald, 12, { tags: [tag] });
    // Its send window is closed now (UTC clients): it runs, and nothing goes out.
    const hhmm = (hoursFromNow: number) => new Date(Date.now() + hoursFromNow * 3_600_000).toISOString().slice(11, 16);
    const mailing = await createMailing(herald, { filter: { tags: [tag] }, sendWindow: { from: hhmm(2), to: hhmm(3) } });
    await untilMailingStatus(herald, mailing.id, 'RUNNING', 5_000);
    const samples = await scrape();
    expect(valueOf(samples, 'herald_mailing_unsent', { mailing_id: mailing.id })).toBe(12);
    expect(valueOf(samples, 'herald_mailing_seconds_left', { mailing_id: mailing.id })).toBeGreaterThan(50);
    expect(valueOf(samples, 'herald_mailing_seconds_left', { mailing_id: mailing.id })).toBeLessThanOrEqual(60);
    expect(valueOf(samples, 'herald_messages_due')).toBe(12);
    expect(valueOf(samples, 'herald_mailings', { status: 'RUNNING' })).toBe(1);
    await herald.ok('mutation($id: ID!) { cancelMailing(id: $id) { id } }', { id: mailing.id });
    const after = await scrape();
    expect(after.some((s) => s.name === 'herald_mailing_unsent' && s.labels.mailing_id === mailing.id)).toBe(false);
    expect(valueOf(after, 'herald_messages_due')).toBe(0);
  });

  it('should count what a cancellation and a mailing\'s end settle at once, as the rows say', async () => {
    // What the tests before handed out has its results written (and counted) first.
    await waitFor(async () => (await herald.sql`select count(*)::int as n from dispatch_leases`)[0].n === 0, 5_000, 'no message in flight');
    const before = await scrape();
    // Nothing can go before its window opens in 2 h (it ends in 4): the cancellation settles it all.
    const hhmm = (hoursFromNow: number) => new Date(Date.now() + hoursFromNow * 3_600_000).toISOString().slice(11, 16);
    const closedTag = `c${Math.random().toString(36).slice(2, 10)}`;
    await insertClients(herald, 9, { tags: [closedTag] });
    const cancelled = await createMailing(herald, { filter: { tags: [closedTag] }, endAt: inMs(4 * 3_600_000), sendWindow: { from: hhmm(2), to: hhmm(3) } });
    await untilMailingStatus(herald, cancelled.id, 'RUNNING', 5_000);
    await herald.ok('mutation($id: ID!) { cancelMailing(id: $id) { id } }', { id: cancelled.id });
    // A gateway that is down, and an end in 1.5 s: the rest expires at the end.
    gateway.set({ down: true });
    const endTag = `e${Math.random().toString(36).slice(2, 10)}`;
    await insertClients(herald, 7, { tags: [endTag] });
    const ending = await createMailing(herald, { filter: { tags: [endTag] }, endAt: inMs(1_500) });
    try {
      await untilMailingStatus(herald, ending.id, 'COMPLETED', 10_000);
    } finally {
      gateway.set({ down: false });
    }
    const after = await scrape();
    const delta = (outcome: string) => valueOf(after, 'herald_messages_total', { outcome }) - valueOf(before, 'herald_messages_total', { outcome });
    const rows = async (id: string, status: string) =>
      (await herald.sql<{ n: number }[]>`select count(*)::int as n from messages where mailing_id = ${id} and status = ${status}`)[0].n;
    expect(await rows(cancelled.id, 'CANCELLED')).toBe(9);
    expect(await rows(ending.id, 'EXPIRED')).toBe(7);
    expect(delta('cancelled')).toBe(9);
    expect(delta('expired')).toBe(7);
    expect(delta('sent')).toBe(0);
  });

  it('should count GraphQL operations by type and outcome, and the subscriptions open', async () => {
    const before = await scrape();
    await herald.ok('{ me { role } }');
    await herald.gql('{ me { nope } }');
    await herald.gql('mutation { deleteMailing(id: "1") }', {}, { token: VIEWER_TOKEN });
    const live = subscribe(herald.url, 'subscription { mailingsChanged { kind } }');
    try {
      await waitFor(async () => valueOf(await scrape(), 'herald_subscriptions_active') === 1, 5_000, 'one subscription open');
    } finally {
      await live.stop();
    }
    await waitFor(async () => valueOf(await scrape(), 'herald_subscriptions_active') === 0, 5_000, 'no subscription open');
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('herald_graphql_operations_total', { type: 'query', outcome: 'ok' })).toBe(1);
    // the invalid query has no type: it never got past validation
    expect(delta('herald_graphql_operations_total', { type: 'unknown', outcome: 'error' })).toBe(1);
    expect(delta('herald_graphql_operations_total', { type: 'mutation', outcome: 'error' })).toBe(1);
    expect(delta('herald_graphql_operations_total', { type: 'subscription', outcome: 'ok' })).toBe(1);
    expect(delta('herald_graphql_duration_seconds_count', { type: 'query' })).toBe(1);
  });

  it('should show the process and Node figures', async () => {
    const samples = await scrape();
    for (const name of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'process_cpu_seconds_total']) {
      expect(samples.some((s) => s.name === name), name).toBe(true);
    }
    expect(samples.some((s) => s.name.startsWith('nodejs_gc_duration_seconds'))).toBe(true);
  });

  it('should refuse a scrape without the METRICS_TOKEN, or with another token', async () => {
    expect((await fetch(`${herald.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${herald.url}/metrics`, { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } })).status).toBe(401);
  });

  it('should not be served, and nothing counted, with METRICS_ENABLED=false', async () => {
    const quiet = await startTestHerald({ metrics: { enabled: false, token: null, cacheMs: 0 } });
    try {
      expect((await fetch(`${quiet.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${quiet.url}/healthz`)).status).toBe(200);
    } finally {
      await quiet.stop();
    }
  });

  it('should be served by a worker process too, with no GraphQL there', async () => {
    const worker = await startTestHerald({ role: 'worker', metrics: { enabled: true, token: null, cacheMs: 0 } });
    try {
      const samples = await scrape(worker.url, null);
      expect(samples.some((s) => s.name === 'herald_gateway_breaker_state' && s.labels.provider === 'default')).toBe(true);
      expect(samples.some((s) => s.name === 'herald_messages_due')).toBe(true);
      expect((await fetch(`${worker.url}/graphql`, { method: 'POST' })).status).toBe(404);
    } finally {
      await worker.stop();
    }
  });
});
