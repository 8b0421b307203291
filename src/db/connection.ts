import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Db = PostgresJsDatabase<typeof schema>;
export type Database = { db: Db; close: () => Promise<void> };

export type ConnectOptions = {
  max?: number;
  /** application_name, to tell Herald's pools apart in pg_stat_activity */
  name?: string;
  /** PostgreSQL ends a transaction left idle this long (a hung process), freeing its locks */
  idleInTransactionMs?: number;
  /** PostgreSQL cancels a statement running longer than this; 0 or absent: never */
  statementTimeoutMs?: number;
  /** a connection not established within this fails (CONNECT_TIMEOUT) instead of waiting; default 30 s */
  connectTimeoutMs?: number;
  /**
   * The URL goes through a pooler in transaction mode (PgBouncer; DATABASE_DIRECT_URL is
   * set): each transaction may run on another server connection. Statements are then not
   * prepared (a prepared statement lives on one server connection; PgBouncer before 1.21
   * does not carry them over), and the two timeouts above are not sent as start-up
   * parameters, which PgBouncer refuses ("unsupported startup parameter") and could not keep
   * per client anyway: there its `query_timeout` and `idle_transaction_timeout` stand in.
   */
  pooled?: boolean;
};

/**
 * How long (in seconds) postgres.js waits before reconnecting after `retries` failed
 * connections in a row. Its default grows as 3^retries up to 20 s: after an outage of a few
 * seconds, the pools waited up to 20 s more before trying again, while the database was
 * back. Herald's grows from 50 ms to 1 s, with jitter.
 */
export function reconnectBackoff(retries: number): number {
  return Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2);
}

export function connectDatabase(url: string, opts: ConnectOptions = {}): Database {
  const sessionSettings = !opts.pooled;
  const client = postgres(url, {
    max: opts.max ?? 10,
    ...(opts.pooled ? { prepare: false } : {}),
    onnotice: () => {}, // postgres.js prints notices with console.log by default
    backoff: reconnectBackoff,
    ...(opts.connectTimeoutMs ? { connect_timeout: opts.connectTimeoutMs / 1000 } : {}),
    connection: {
      application_name: opts.name ?? 'herald',
      ...(sessionSettings && opts.idleInTransactionMs ? { idle_in_transaction_session_timeout: opts.idleInTransactionMs } : {}),
      ...(sessionSettings && opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
      // Each execution planned for its values: a generic plan of a prepared statement on
      // messages would open and lock every partition at each execution (pruning them only
      // then), a cost that grows with the years kept (docs/retention.md). Through PgBouncer
      // statements are not prepared, so planned so already.
      ...(sessionSettings ? { plan_cache_mode: 'force_custom_plan' } : {}),
    },
  });
  if (opts.pooled) fetchTypesOnce(client);
  return {
    db: drizzle({ client, schema }),
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * postgres.js reads the server's array types on every new connection, in a query of its own
 * whose failure nothing catches: an unhandled rejection, which ends the process. Straight to
 * PostgreSQL, a connection that fails fails before that; through PgBouncer the login succeeds
 * (PgBouncer answers it) while the server is away, and that query fails ("server login has
 * been failing", or the connection closed). The types are kept per client (every connection
 * of it shares them), so once one connection has read them, the others need not: after the
 * first answered statement, later connections skip the reading. Tried again until it answers.
 */
export function fetchTypesOnce(client: postgres.Sql): void {
  const attempt = () =>
    client`select 1`.then(
      () => void ((client.options as { fetch_types: boolean }).fetch_types = false),
      (error: { code?: string }) => {
        if (error?.code !== 'CONNECTION_ENDED') setTimeout(attempt, 1_000).unref(); // ended: given up
      },
    );
  void attempt();
}

/**
 * Whether the postgres.js build this process loads carries Herald's fix for the
 * write-after-close crash (patches/postgres+3.4.9.patch, applied by patch-package at
 * install; an install with --ignore-scripts skips it).
 */
export function postgresDriverPatched(): boolean {
  try {
    // The ESM build (src/) where import.meta.resolve exists (Node, tsx); else the CommonJS one.
    const entry =
      typeof import.meta.resolve === 'function' ? fileURLToPath(import.meta.resolve('postgres')) : createRequire(import.meta.url).resolve('postgres');
    return readFileSync(path.join(path.dirname(entry), 'connection.js'), 'utf8').includes('herald-patch: write after close');
  } catch {
    return false;
  }
}
