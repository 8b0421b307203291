import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import { createClient } from 'graphql-ws';
import postgres from 'postgres';
import WebSocket from 'ws';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startHerald } from '../../src/main';
import { startPgBouncer, type PgBouncer } from './pgbouncer';

/** Longer than any request deadline Herald has: an answer later than this is a hang. */
const GQL_TIMEOUT_MS = 20_000;

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
export const VIEWER_TOKEN = 'viewer-token-for-tests-012345678';

export type GqlResponse<T = any> = {
  status: number;
  body: { data?: T | null; errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[] };
};

/** A fresh, empty database on the test server; dropped by the returned function. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `herald_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => dropDatabase(url.toString()),
  };
}

export type TestConfigOverrides = Partial<Omit<Config, 'dispatch'>> & {
  dispatch?: Partial<Omit<Config['dispatch'], 'breaker'>> & { breaker?: Partial<Config['dispatch']['breaker']> };
};

/** The defaults, with tokens for tests, any port, and dispatch timings made short. */
export function testConfig(overrides: TestConfigOverrides = {}): Config {
  const defaults = loadConfig({});
  return {
    ...defaults,
    nodeEnv: 'test',
    port: 0,
    apiTokens: [
      { role: 'admin', token: ADMIN_TOKEN },
      { role: 'viewer', token: VIEWER_TOKEN },
    ],
    // A test Herald's built-in simulator sends no receipts unless the test asks: its messages stay SENT.
    simulatorReceipts: { ...defaults.simulatorReceipts, receipts: false },
    ...overrides,
    // A finished mailing's progress stays open while receipts may come (LIVE_RECEIPT_IDLE_MS):
    // short here, so that tests waiting for a subscription's end do not wait ten minutes.
    live: { ...defaults.live, receiptIdleMs: 500, ...overrides.live },
    dispatch: {
      ...defaults.dispatch,
      requestTimeoutMs: 2_000,
      leaseMs: 5_000,
      retryBaseMs: 100,
      retryMaxMs: 1_000,
      authProbeMs: 300,
      pollMs: 20,
      timerPollMs: 500,
      sweepMs: 1_000,
      ...overrides.dispatch,
      breaker: { ...defaults.dispatch.breaker, openMs: 200, maxOpenMs: 800, ...overrides.dispatch?.breaker },
    },
  };
}

/**
 * A real Herald on a random port, over its own database on the test server, with its log
 * lines kept in `logs` (parsed) for assertions. Call `stop()` in afterAll.
 *
 * With HERALD_TEST_PGBOUNCER set (CI's PgBouncer run), a PgBouncer in transaction mode
 * stands in front of that database (or of `overrides.databaseUrl`: the outage tests' own
 * server, their proxy): DATABASE_URL goes through it, DATABASE_DIRECT_URL straight to the
 * database, as docs/operations.md ("Behind PgBouncer") says to run Herald.
 */
export async function startTestHerald(overrides: TestConfigOverrides = {}) {
  if (process.env.HERALD_TEST_PGBOUNCER && overrides.databaseDirectUrl === undefined) {
    const database = await createTestDatabase();
    const direct = overrides.databaseUrl ?? database.url;
    const bouncer = await startPgBouncer(direct, { statementTimeoutMs: testConfig(overrides).database.statementTimeoutMs });
    try {
      const herald = await startTestHeraldOn({ ...overrides, databaseUrl: bouncer.urlThrough(direct), databaseDirectUrl: direct }, database);
      return { ...herald, pgbouncer: bouncer as PgBouncer | undefined, stop: async () => { await herald.stop(); await bouncer.stop(); } };
    } catch (error) {
      await bouncer.stop();
      await database.drop();
      throw error;
    }
  }
  return { ...(await startTestHeraldOn(overrides)), pgbouncer: undefined as PgBouncer | undefined };
}

/** startTestHerald's Herald, over `database` (created here unless given). */
async function startTestHeraldOn(overrides: TestConfigOverrides, given?: { url: string; drop: () => Promise<void> }) {
  const database = given ?? (await createTestDatabase());
  const logs: Record<string, any>[] = [];
  const rawLog: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        rawLog.push(line);
        logs.push(JSON.parse(line));
      }
      done();
    },
  });
  const config = testConfig({ databaseUrl: database.url, ...overrides });
  const herald = await startHerald(config, createLogger(config.logLevel, sink));
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });

  async function gql<T = any>(
    query: string,
    variables: Record<string, unknown> = {},
    opts: { token?: string | null; operationName?: string } = {},
  ): Promise<GqlResponse<T>> {
    const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
    const res = await fetch(`${herald.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables, operationName: opts.operationName }),
      // A request Herald never answers fails here, naming it, not as the test's timeout.
      signal: AbortSignal.timeout(GQL_TIMEOUT_MS),
    }).catch((err: Error) => {
      throw new Error(`no answer to ${query.replace(/\s+/g, ' ').slice(0, 80)}: ${err.message}`);
    });
    return { status: res.status, body: (await res.json()) as GqlResponse<T>['body'] };
  }

  /** Like gql, but fails the test (showing the whole response) unless it succeeded. */
  async function ok<T = any>(query: string, variables: Record<string, unknown> = {}, opts: { token?: string } = {}): Promise<T> {
    const res = await gql<T>(query, variables, opts);
    if (res.status !== 200 || res.body.errors || !res.body.data) {
      throw new Error(`GraphQL operation failed: ${JSON.stringify(res, null, 2)}`);
    }
    return res.body.data;
  }

  return {
    url: herald.url,
    databaseUrl: database.url,
    sql,
    logs,
    rawLog,
    gql,
    ok,
    stop: async () => {
      await herald.stop();
      await sql.end();
      await database.drop();
    },
  };
}

export type TestHerald = Awaited<ReturnType<typeof startTestHerald>>;

/** The single error of a failed response, or a thrown error that shows the whole response. */
export function onlyError(res: GqlResponse) {
  if (!res.body.errors || res.body.errors.length !== 1) {
    throw new Error(`expected exactly one error, got: ${JSON.stringify(res, null, 2)}`);
  }
  return res.body.errors[0];
}

/**
 * Drops a test database from the admin side while its users are still connected (their
 * sessions are ended), as when a Herald loses its database.
 */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = postgres(inject('adminDatabaseUrl'), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
}

export type WsOutcome = {
  /** the `next` payloads, in order */
  results: ExecutionResult[];
  /** the errors of an `error` message: the operation was refused before it ran */
  errors?: readonly GraphQLFormattedError[];
  /** the code the socket was closed with, when the server closed it before an answer */
  closeCode?: number;
};

/**
 * Runs one operation over graphql-ws on a fresh socket at `<url>/graphql`, authenticated
 * like `gql` (`token` defaults to the admin token; `null` sends no connectionParams), and
 * disposes the client afterwards.
 */
export async function wsOperation(
  heraldUrl: string,
  query: string,
  opts: { token?: string | null; variables?: Record<string, unknown>; operationName?: string } = {},
): Promise<WsOutcome> {
  const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
  const closeCodes: number[] = [];
  const client = createClient({
    url: `${heraldUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token === null ? undefined : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => void closeCodes.push((event as { code: number }).code) },
  });
  try {
    return await new Promise<WsOutcome>((resolve, reject) => {
      const results: ExecutionResult[] = [];
      const timer = setTimeout(() => reject(new Error(`no answer over websocket within 10 s to: ${query}`)), 10_000);
      client.subscribe(
        { query, variables: opts.variables, operationName: opts.operationName },
        {
          next: (result) => void results.push(result as ExecutionResult),
          complete: () => {
            clearTimeout(timer);
            resolve({ results });
          },
          error: (error) => {
            clearTimeout(timer);
            if (Array.isArray(error)) resolve({ results, errors: error });
            else if (typeof (error as { code?: unknown })?.code === 'number') {
              resolve({ results, closeCode: closeCodes[0] ?? (error as { code: number }).code });
            } else reject(error);
          },
        },
      );
    });
  } finally {
    await client.dispose();
  }
}
