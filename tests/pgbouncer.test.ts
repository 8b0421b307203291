import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import { startHerald, startupFailure } from '../src/main';
import { expectedMigrations } from '../src/db/migrate';
import { createMailing, insertClients, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { createTestDatabase, startTestHerald, testConfig, type TestHerald } from './support/herald';
import { subscribe } from './support/live';
import { startPgBouncer, type PgBouncer } from './support/pgbouncer';
import { waitFor } from './support/wait';

/**
 * Herald behind a real PgBouncer (Debian's 1.18) in transaction mode: DATABASE_URL through
 * it, DATABASE_DIRECT_URL straight to PostgreSQL for what needs a session (migrations' and
 * pg-boss's locks, LISTEN). Two Herald processes (an all and a worker) share one mailing,
 * each through its own gateway, so that who sent what is known.
 */

const CLIENTS = 300;
const PROGRESS = `subscription($id: ID!) { mailingProgress(mailingId: $id) { status stats { total sent } } }`;

type Gateway = Awaited<ReturnType<typeof startTestGateway>>;
let database: { url: string; drop: () => Promise<void> };
let bouncer: PgBouncer;
let sql: postgres.Sql;
let gateways: Gateway[] = [];
let heralds: TestHerald[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  bouncer = await startPgBouncer(database.url, { statementTimeoutMs: 30_000 });
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  gateways = [await startTestGateway(), await startTestGateway()];
  const through = { databaseUrl: bouncer.urlThrough(database.url), databaseDirectUrl: database.url };
  // Started together: the migrations' and pg-boss's set-up locks (direct) keep them apart.
  heralds = await Promise.all([
    startTestHerald({ ...through, ...gateways[0].config, dispatch: { concurrency: 4 } }),
    startTestHerald({ ...through, ...gateways[1].config, role: 'worker', dispatch: { concurrency: 4 } }),
  ]);
});

afterAll(async () => {
  for (const h of heralds) await h.stop();
  for (const g of gateways) await g.simulator.stop();
  await sql?.end();
  await bouncer?.stop();
  await database?.drop();
});

describe('Herald through PgBouncer in transaction mode, sessions direct', () => {
  it('applies every migration once, though two processes started together', async () => {
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(n).toBe(expectedMigrations);
  });

  it('dispatches a mailing to COMPLETED, shared by two processes with no double send, and its subscription hears it', { timeout: 90_000 }, async () => {
    const [api] = heralds;
    const tag = `pgb${Math.random().toString(36).slice(2, 8)}`;
    await insertClients({ sql }, CLIENTS, { tags: [tag] });
    // Slow enough that both processes claim part of it.
    for (const g of gateways) g.simulator.set({ latencyMs: 20 });
    const mailing = await createMailing(api, { text: 'Through the pooler', filter: { tags: [tag] } });
    const sub = subscribe<{ mailingProgress: { status: string; stats: { total: number; sent: number } } }>(api.url, PROGRESS, { id: mailing.id });
    try {
      const done = await untilMailingStatus(api, mailing.id, 'COMPLETED', 60_000);
      expect(done.stats).toMatchObject({ total: CLIENTS, sent: CLIENTS, failed: 0 });

      const ids = new Set((await sql<{ id: string }[]>`select id from messages where mailing_id = ${mailing.id}`).map((r) => Number(r.id)));
      const sentBy = gateways.map((g) => g.simulator.received.filter((r) => ids.has(r.msgId)).map((r) => r.msgId));
      // Each message reached exactly one gateway, once.
      expect(sentBy[0].length + sentBy[1].length).toBe(CLIENTS);
      expect(new Set([...sentBy[0], ...sentBy[1]]).size).toBe(CLIENTS);
      expect(sentBy[0].length, 'the all process sent part').toBeGreaterThan(0);
      expect(sentBy[1].length, 'the worker process sent part').toBeGreaterThan(0);

      // The subscription (LISTEN on the direct connection) heard progress up to the end.
      await waitFor(() => sub.events.some((e) => e.data.mailingProgress.status === 'COMPLETED'), 15_000, 'the COMPLETED event');
      expect(sub.errors).toEqual([]);
      const sent = sub.events.map((e) => e.data.mailingProgress.stats.sent);
      expect(sent.at(-1)).toBe(CLIENTS);
      expect(sent.some((n) => n > 0 && n < CLIENTS), 'progress between start and end').toBe(true);
    } finally {
      await sub.stop();
      for (const g of gateways) g.simulator.set({ latencyMs: 0 });
    }
  });

  it("went through PgBouncer: its pools served Herald's connections, in transaction mode", async () => {
    const name = new URL(database.url).pathname.slice(1);
    const pools = await bouncer.admin('SHOW POOLS');
    const pool = pools.find((p) => p.database === name);
    expect(pool, JSON.stringify(pools)).toBeDefined();
    expect(pool!.pool_mode).toBe('transaction');
    const stats = (await bouncer.admin('SHOW STATS')).find((s) => s.database === name)!;
    expect(Number(stats.total_xact_count)).toBeGreaterThan(CLIENTS / 10);
    // Herald's pools are its clients (application_name tells them apart); the LISTEN
    // connection and pg-boss's are not: they went direct.
    const clients = (await bouncer.admin('SHOW CLIENTS')).filter((c) => c.database === name);
    const apps = new Set(clients.map((c) => String(c.application_name)));
    expect(apps.has('herald-dispatch'), [...apps].join(', ')).toBe(true);
    expect(apps.has('herald-events')).toBe(false);
    expect(apps.has('herald-timers')).toBe(false);
    const direct = await sql<{ app: string }[]>`select distinct application_name as app from pg_stat_activity where datname = ${name}`;
    expect(direct.map((r) => r.app)).toEqual(expect.arrayContaining(['herald-events', 'herald-timers']));
  });
});

describe('Herald through PgBouncer without DATABASE_DIRECT_URL', () => {
  it('refuses to start, in one line that names DATABASE_DIRECT_URL', async () => {
    const own = await createTestDatabase();
    const config = testConfig({ databaseUrl: bouncer.urlThrough(own.url) });
    try {
      const error = await startHerald(config, createLogger('silent')).then(
        async (h) => {
          await h.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(error, 'Herald started through the pooler').toBeDefined();
      const line = startupFailure(error, config);
      expect(line).toMatch(/connection pooler/);
      expect(line).toMatch(/DATABASE_DIRECT_URL/);
      expect(line).not.toMatch(/\n/);
    } finally {
      await own.drop();
    }
  });
});
