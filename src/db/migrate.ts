import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Db } from './connection';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));
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
export async function migrateDatabase(url: string, opts: { connectTimeoutMs?: number } = {}): Promise<void> {
  // No statement timeout here: a migration may rewrite a large table.
  const client = postgres(url, { max: 1, onnotice: () => {}, ...(opts.connectTimeoutMs ? { connect_timeout: opts.connectTimeoutMs / 1000 } : {}) });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** True when the database answers and holds at least every migration this build ships. */
export async function isMigrated(db: Db): Promise<boolean> {
  const rows = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  );
  return rows[0].n >= expectedMigrations;
}
