import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { PROJECT_ROOT } from '../common/project-root';
import type { Db } from './connection';

const MIGRATIONS_FOLDER = path.join(PROJECT_ROOT, 'drizzle');
// An arbitrary constant that names "Herald's migrations" among advisory locks.
const MIGRATION_LOCK_KEY = 7_214_630_001;

/** How many migrations this build of Herald ships, read from drizzle-kit's journal. */
export const expectedMigrations: number = (
  JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as { entries: unknown[] }
).entries.length;

/**
 * Applies drizzle/ to the database. Idempotent, and safe when several Herald processes
 * start at once: the session-level advisory lock makes the others wait, and they then find
 * nothing left to apply. A single-connection client keeps lock and migration on one session.
 */
export async function migrateDatabase(url: string, opts: { connectTimeoutMs?: number; migrationsFolder?: string } = {}): Promise<void> {
  // No statement timeout here, nor one on idle transactions, whatever the role's defaults: a
  // migration may rewrite a large table. Sent as start-up parameters, they also tell a
  // connection pooler from the server: PgBouncer refuses them (PoolerInTheWayError below),
  // where a session lock and a migration split over its server connections would not say so.
  const client = postgres(url, {
    max: 1,
    onnotice: () => {},
    ...(opts.connectTimeoutMs ? { connect_timeout: opts.connectTimeoutMs / 1000 } : {}),
    connection: { statement_timeout: '0', idle_in_transaction_session_timeout: '0' } as Record<string, string>,
  });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.catch((error: unknown) => {
      throw isPoolerRefusal(error) ? new PoolerInTheWayError() : error;
    });
    await migrate(drizzle({ client }), { migrationsFolder: opts.migrationsFolder ?? MIGRATIONS_FOLDER });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

/**
 * The migrations' connection reached a pooler, not PostgreSQL: sessions (this lock, LISTEN,
 * pg-boss's locks) need DATABASE_DIRECT_URL. PgBouncer answers start-up parameters it does
 * not know with "unsupported startup parameter" (08P01); one that lists them in its
 * ignore_startup_parameters passes unseen.
 */
export class PoolerInTheWayError extends Error {
  constructor() {
    super(
      'the migrations\' connection reached a connection pooler (PgBouncer: "unsupported startup parameter"), not PostgreSQL: ' +
        'set DATABASE_DIRECT_URL to the database itself, for what needs a session (docs/operations.md, "Behind PgBouncer")',
    );
    this.name = 'PoolerInTheWayError';
  }
}

function isPoolerRefusal(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '08P01' && typeof message === 'string' && message.includes('unsupported startup parameter');
}

/** True when the database answers and holds at least every migration this build ships. */
export async function isMigrated(db: Db): Promise<boolean> {
  const rows = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  );
  return rows[0].n >= expectedMigrations;
}
