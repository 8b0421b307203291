import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDriverPatched } from '../src/db/connection';
import { createTestDatabase } from './support/herald';

/**
 * postgres.js 3.4.9 as Herald installs it (patches/postgres+3.4.9.patch): a connection closed
 * under a transaction must fail its queries, not throw from a timer and end the process
 * (porsager/postgres#1154), and the pool must work afterwards. Unpatched, the ROLLBACK that
 * `begin` writes after its query failed goes to a socket already set to null (a crash, or a
 * connection that never writes again), and the next query fails with the old error.
 */
describe('the installed postgres.js driver', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('should be the patched build (patches/postgres+3.4.9.patch, applied at install)', () => {
    expect(postgresDriverPatched()).toBe(true);
  });

  it('should fail a transaction whose connection is terminated, and keep serving, without an uncaught error', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const sql = postgres(database.url, { max: 2, onnotice: () => {} });
    const admin = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) {
        const running = sql.begin(async (tx) => tx`select pg_sleep(5) as slept`).then(() => 'committed', (e: { code?: string }) => String(e.code));
        // Terminated once it is running (a fixed 30 ms wait lost that race on a loaded machine:
        // nothing was terminated, and the sleep committed).
        let terminated = false;
        for (let waited = 0; !terminated && waited < 4_000; waited += 10) {
          await new Promise((r) => setTimeout(r, 10));
          const hit = await admin`select pg_terminate_backend(pid) as done from pg_stat_activity
            where datname = current_database() and state = 'active' and query like 'select pg_sleep(5)%' and pid <> pg_backend_pid()`;
          terminated = hit.length > 0;
        }
        expect(terminated).toBe(true);
        outcomes.push(await running);
        await new Promise((r) => setImmediate(r));
      }
      expect(new Set(outcomes)).not.toContain('committed');
      expect(uncaught).toEqual([]);
      // The next query runs, on a reconnected socket, and is not failed with the old error.
      expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
      expect(await Promise.all([sql`select 2 as two`, sql`select 3 as three`])).toEqual([[{ two: 2 }], [{ three: 3 }]]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await sql.end({ timeout: 1 });
      await admin.end({ timeout: 1 });
    }
  });
});
