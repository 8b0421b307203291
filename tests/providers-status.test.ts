import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../src/db/connection';
import { migrateDatabase } from '../src/db/migrate';
import { DEFAULT_BEHAVIOUR, type GatewaySimulator } from '../src/gateway/simulator';
import { createLogger } from '../src/logger';
import { startHerald, type Herald } from '../src/main';
import { mergeProviders, NO_WORKER_REASON } from '../src/providers/provider.directory';
import { deleteProviderStates, readProviderAggregates, sweepProviderStates, writeProviderStates, type ProviderStateRow } from '../src/providers/provider-state.store';
import { createMailing, insertClients } from './support/fixtures';
import { GATEWAY_TOKEN, startTestGateway } from './support/gateway';
import { ADMIN_TOKEN, createTestDatabase, onlyError, startTestHerald, testConfig, VIEWER_TOKEN, type TestHerald } from './support/herald';
import { subscribe } from './support/live';
import { waitFor } from './support/wait';

const PROVIDERS = '{ providers { name type state reason inFlight partsPerSecond sentPerSecond bindsUp } }';
const PROVIDERS_CHANGED = 'subscription { providersChanged { name type state reason inFlight partsPerSecond sentPerSecond bindsUp } }';

type ProviderOut = { name: string; type: string; state: string; reason: string | null; inFlight: number; partsPerSecond: number; sentPerSecond: number; bindsUp: number | null };

/** The providers query against any api process's URL. */
async function providersAt(url: string, token: string | null = ADMIN_TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: PROVIDERS }),
  });
  return { status: res.status, body: await res.json() };
}

async function listAt(url: string): Promise<ProviderOut[]> {
  const res = await providersAt(url);
  if (res.status !== 200 || res.body.errors) throw new Error(JSON.stringify(res.body));
  return res.body.data.providers;
}

describe('the providers query and providersChanged, one process of both roles', () => {
  let herald: TestHerald;
  let gateway: GatewaySimulator;

  beforeAll(async () => {
    const gw = await startTestGateway();
    gateway = gw.simulator;
    herald = await startTestHerald({
      ...gw.config,
      // The breaker opens after a few failed requests, and stays open long enough to be seen.
      dispatch: { concurrency: 4, rateLimit: 50, breaker: { window: 10, minCalls: 4, openMs: 1_000, maxOpenMs: 2_000 } },
    });
  });
  afterAll(async () => {
    await herald?.stop();
    await gateway?.stop();
  });
  afterEach(() => gateway.set(DEFAULT_BEHAVIOUR));

  it('should list the default provider UP with its fields, for an admin and a viewer', async () => {
    const expected: ProviderOut = { name: 'default', type: 'HTTP', state: 'UP', reason: null, inFlight: 0, partsPerSecond: 50, sentPerSecond: 0, bindsUp: null };
    // The worker's first write is at its start; the api answers from the rows.
    await waitFor(async () => (await listAt(herald.url))[0]?.state === 'UP', 5_000, 'default UP');
    expect(await herald.ok(PROVIDERS)).toEqual({ providers: [expected] });
    expect(await herald.ok(PROVIDERS, {}, { token: VIEWER_TOKEN })).toEqual({ providers: [expected] });
    const rows = await herald.sql`select provider, type, state from provider_states`;
    expect(rows).toEqual([{ provider: 'default', type: 'HTTP', state: 'UP' }]);
  });

  it('should refuse an unauthenticated call with UNAUTHENTICATED', async () => {
    const res = await herald.gql(PROVIDERS, {}, { token: null });
    expect(onlyError(res).extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.data?.providers ?? null).toBeNull();
  });

  it('should give the list at once, then DOWN with a reason when the gateway goes down, and UP again when it is back', async () => {
    const live = subscribe<{ providersChanged: ProviderOut[] }>(herald.url, PROVIDERS_CHANGED);
    const states = () => live.events.map((e) => e.data.providersChanged[0].state);
    try {
      const subscribedAt = Date.now();
      await waitFor(() => live.events.length >= 1, 3_000, 'the list at once');
      expect(live.events[0].at - subscribedAt).toBeLessThan(1_000);
      expect(live.events[0].data.providersChanged).toEqual([expect.objectContaining({ name: 'default', state: 'UP', reason: null })]);

      gateway.set({ down: true });
      const tag = `p${Math.random().toString(36).slice(2, 10)}`;
      await insertClients(herald, 40, { tags: [tag] });
      const mailing = await createMailing(herald, { filter: { tags: [tag] } });
      const down = await waitFor(() => live.events.find((e) => e.data.providersChanged[0].state === 'DOWN'), 10_000, `DOWN; states so far ${states()}`);
      expect(down.data.providersChanged[0].reason).toMatch(/circuit breaker open/);
      // The query answers what the subscription said, from the same rows.
      expect(['DOWN', 'DEGRADED']).toContain((await listAt(herald.url))[0].state);

      gateway.set({ down: false });
      const upAgainAfter = live.events.indexOf(down);
      await waitFor(() => live.events.slice(upAgainAfter).some((e) => e.data.providersChanged[0].state === 'UP'), 15_000, `UP again; states ${states()}`);
      const upAgain = live.events.slice(upAgainAfter).find((e) => e.data.providersChanged[0].state === 'UP')!;
      expect(upAgain.data.providersChanged[0].reason).toBeNull();
      expect(live.errors).toEqual([]);
      // Only changes are events: the list did not repeat itself once a second while nothing moved.
      for (let i = 1; i < live.events.length; i++) expect(live.events[i].data).not.toEqual(live.events[i - 1].data);
      await herald.ok('mutation($id: ID!) { cancelMailing(id: $id) { id } }', { id: mailing.id });
    } finally {
      await live.stop();
    }
  });

  it('should serve many subscribers from one reader', async () => {
    const subs = Array.from({ length: 20 }, () => subscribe<{ providersChanged: ProviderOut[] }>(herald.url, PROVIDERS_CHANGED));
    try {
      await waitFor(() => subs.every((s) => s.events.length >= 1), 5_000, 'every subscriber has the list');
      const before = await statementsReadingStates(herald);
      await new Promise((r) => setTimeout(r, 3_000));
      const reads = (await statementsReadingStates(herald)) - before;
      // About one read a second for all twenty, and a few for the events heard: one a second per
      // subscriber would be 60. (The statistics reach pg_stat a little late: the bound is loose.)
      expect(reads).toBeLessThanOrEqual(12);
      expect(reads).toBeGreaterThanOrEqual(1);
      for (const s of subs) expect(s.errors).toEqual([]);
    } finally {
      await Promise.all(subs.map((s) => s.stop()));
    }
  });
});

/**
 * How many reads of provider_states the database has seen: its sequential scans (the workers'
 * upserts go through the primary key's index instead, and are not counted).
 */
async function statementsReadingStates(herald: TestHerald): Promise<number> {
  const [row] = await herald.sql<{ n: string }[]>`select coalesce(seq_scan, 0)::bigint as n from pg_stat_user_tables where relname = 'provider_states'`;
  return Number(row.n);
}

describe('an api process and a worker process on one database', () => {
  let api: TestHerald;
  let api2: Herald;
  let worker: Herald | undefined;
  let gateway: GatewaySimulator;
  let gatewayUrl: string;

  beforeAll(async () => {
    const gw = await startTestGateway();
    gateway = gw.simulator;
    gatewayUrl = gw.url;
    api = await startTestHerald({ ...gw.config, role: 'api', dispatch: { rateLimit: 20 } });
    api2 = await startHerald(testConfig({ ...gw.config, databaseUrl: api.databaseUrl, role: 'api', dispatch: { rateLimit: 20 } }), createLogger('silent'));
  });
  afterAll(async () => {
    await worker?.stop();
    await api2?.stop();
    await api?.stop();
    await gateway?.stop();
  });

  it('should say DOWN, no worker process reports it, while no worker runs, on every api process', async () => {
    const expected = [{ name: 'default', type: 'HTTP', state: 'DOWN', reason: NO_WORKER_REASON, inFlight: 0, partsPerSecond: 20, sentPerSecond: 0, bindsUp: null }];
    expect(await listAt(api.url)).toEqual(expected);
    expect(await listAt(api2.url)).toEqual(expected);
  });

  it('should show what the worker reports on both api processes, at once when it starts and when it stops', async () => {
    const live = subscribe<{ providersChanged: ProviderOut[] }>(api.url, PROVIDERS_CHANGED);
    try {
      await waitFor(() => live.events.length >= 1, 3_000, 'the list at once');
      expect(live.events[0].data.providersChanged[0].state).toBe('DOWN');

      worker = await startHerald(testConfig({ senderUrl: gatewayUrl, senderToken: GATEWAY_TOKEN, databaseUrl: api.databaseUrl, role: 'worker', dispatch: { rateLimit: 20 } }), createLogger('silent'));
      const started = Date.now();
      await waitFor(() => live.events.some((e) => e.data.providersChanged[0].state === 'UP'), 3_000, 'UP once the worker writes');
      // Announced on the event channel: well before the api's once-a-second re-read would see it.
      expect(Date.now() - started).toBeLessThan(1_000);
      const up = [{ name: 'default', type: 'HTTP', state: 'UP', reason: null, inFlight: 0, partsPerSecond: 20, sentPerSecond: 0, bindsUp: null }];
      expect(await listAt(api.url)).toEqual(up);
      expect(await listAt(api2.url)).toEqual(up);

      const stopping = worker;
      worker = undefined;
      await stopping.stop();
      await waitFor(() => live.events.at(-1)!.data.providersChanged[0].reason === NO_WORKER_REASON, 3_000, 'DOWN when the worker has gone');
      expect(await listAt(api2.url)).toEqual([expect.objectContaining({ state: 'DOWN', reason: NO_WORKER_REASON })]);
      expect(await api.sql`select * from provider_states`).toEqual([]);
    } finally {
      await live.stop();
    }
  });
});

describe('provider_states: the aggregate over worker processes', () => {
  let database: { url: string; drop: () => Promise<void> };
  let pg: Database;
  const row = (provider: string, over: Partial<ProviderStateRow> = {}): ProviderStateRow => ({
    provider,
    type: 'SMPP',
    state: 'UP',
    reason: null,
    inFlight: 0,
    bindsUp: 2,
    binds: 2,
    partsPerSecond: 100,
    sentPerSecond: 0,
    ...over,
  });
  const configured = [
    { name: 'smsc', type: 'SMPP' as const, partsPerSecond: 100 },
    { name: 'web', type: 'HTTP' as const, partsPerSecond: 0 },
    { name: 'spare', type: 'SMPP' as const, partsPerSecond: 10 },
  ];

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url);
    pg = connectDatabase(database.url);
  });
  afterAll(async () => {
    await pg?.close();
    await database?.drop();
  });

  it('should sum two owners, and call it DEGRADED with the reason and how many see it when they differ', async () => {
    await writeProviderStates(pg.db, 'w1', [row('smsc', { inFlight: 3, sentPerSecond: 10.5 }), row('web', { type: 'HTTP', bindsUp: null, binds: null, inFlight: 2 })], false);
    await writeProviderStates(
      pg.db,
      'w2',
      [row('smsc', { state: 'DEGRADED', reason: '1 of 2 binds down', bindsUp: 1, inFlight: 4, sentPerSecond: 5.25 }), row('web', { type: 'HTTP', bindsUp: null, binds: null, inFlight: 1 })],
      true,
    );
    const aggregates = await readProviderAggregates(pg.db, 5_000);
    expect(aggregates).toEqual([
      { provider: 'smsc', workers: 2, up: 1, down: 0, inFlight: 7, sentPerSecond: 15.75, bindsUp: 3, binds: 4, reasons: [{ reason: '1 of 2 binds down', workers: 1 }] },
      { provider: 'web', workers: 2, up: 2, down: 0, inFlight: 3, sentPerSecond: 0, bindsUp: null, binds: null, reasons: [] },
    ]);
    expect(mergeProviders(configured, aggregates)).toEqual([
      { name: 'smsc', type: 'SMPP', state: 'DEGRADED', reason: '1 of 2 worker processes: 1 of 2 binds down', inFlight: 7, partsPerSecond: 100, sentPerSecond: 15.75, bindsUp: 3, simulated: false },
      { name: 'web', type: 'HTTP', state: 'UP', reason: null, inFlight: 3, partsPerSecond: 0, sentPerSecond: 0, bindsUp: null, simulated: false },
      { name: 'spare', type: 'SMPP', state: 'DOWN', reason: NO_WORKER_REASON, inFlight: 0, partsPerSecond: 10, sentPerSecond: 0, bindsUp: 0, simulated: false },
    ]);
  });

  it('should call it DOWN when every worker sees it down, the reason as is when all give it, and DEGRADED when only some do', async () => {
    const down = { state: 'DOWN', reason: 'bind refused: ESME_RINVPASWD', bindsUp: 0 };
    await writeProviderStates(pg.db, 'w1', [row('smsc', down)], false);
    await writeProviderStates(pg.db, 'w2', [row('smsc', down)], false);
    expect(mergeProviders(configured, await readProviderAggregates(pg.db, 5_000))[0]).toMatchObject({ state: 'DOWN', reason: 'bind refused: ESME_RINVPASWD', bindsUp: 0 });
    await writeProviderStates(pg.db, 'w2', [row('smsc', { state: 'DOWN', reason: null, bindsUp: 0 })], false);
    await writeProviderStates(pg.db, 'w1', [row('smsc')], false);
    expect(mergeProviders(configured, await readProviderAggregates(pg.db, 5_000))[0]).toMatchObject({ state: 'DEGRADED', reason: '1 of 2 worker processes see it DOWN' });
  });

  it('should leave out rows not refreshed within freshMs, sweep old ones, and delete an owner\'s rows', async () => {
    await pg.db.execute(sql`update provider_states set updated_at = now() - interval '10 seconds' where owner = 'w2'`);
    const fresh = await readProviderAggregates(pg.db, 5_000);
    expect(fresh.find((a) => a.provider === 'smsc')).toMatchObject({ workers: 1, up: 1 });
    expect(await sweepProviderStates(pg.db, 60_000)).toBe(0);
    expect(await sweepProviderStates(pg.db, 5_000)).toBe(2);
    await deleteProviderStates(pg.db, 'w1');
    expect(await readProviderAggregates(pg.db, 5_000)).toEqual([]);
    expect(mergeProviders(configured, []).map((p) => p.state)).toEqual(['DOWN', 'DOWN', 'DOWN']);
  });
});
