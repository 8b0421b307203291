import { sql } from 'drizzle-orm';
import type { Db } from './connection';

/**
 * The advisory locks Herald's transactions take, all transaction-scoped. Advisory locks
 * queue their waiters in order, so a transition waiting for its exclusive lock is not
 * starved by a stream of shared holders (row locks taken FOR SHARE can be).
 *
 * - A mailing's lock (721464, id): claims and result writes of the mailing take it shared;
 *   its lifecycle transitions (pause, resume, cancel, end, delete, complete) exclusive. A
 *   claim starts its requests before it commits, so once a transition has its lock, every
 *   request a claim made has started, and every claim after it sees the new status.
 * - The audience lock (721463, 0): client writes take it shared (the triggers of
 *   drizzle/0007, which spell the same numbers), a mailing's start exclusive.
 * - A client's lock (721465, id): claims take it exclusive for the clients they count under
 *   a frequency cap, so that two claims (any process, any mailing) count one after the other.
 */
const MAILING_LOCK_CLASS = 721464;
const AUDIENCE_LOCK_CLASS = 721463;
const CLIENT_LOCK_CLASS = 721465;

/** The int4 half of a lock key (a mailing's, a client's); ids past 2^31 share keys, which only serialises more. */
const keyOf = (id: number) => id % 2_147_483_647;

/** Shared locks on mailings (dispatcher), in key order in one statement: no two takers cross. */
export async function lockMailingsShared(tx: Db, mailingIds: readonly number[]): Promise<void> {
  const keys = [...new Set(mailingIds.map(keyOf))].sort((a, b) => a - b);
  if (keys.length === 0) return;
  await tx.execute(sql`select pg_advisory_xact_lock_shared(${MAILING_LOCK_CLASS}::int, k) from unnest(${`{${keys.join(',')}}`}::int[]) as k order by k`);
}

/** The exclusive lock of a mailing's lifecycle transition. */
export async function lockMailing(db: Db, mailingId: number): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(${MAILING_LOCK_CLASS}::int, ${keyOf(mailingId)}::int)`);
}

/** The exclusive lock of a mailing's start: no client write is under way meanwhile. */
export async function lockAudiences(db: Db): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(${AUDIENCE_LOCK_CLASS}::int, 0)`);
}

/** Exclusive locks on clients, in key order in one statement (see CLIENT_LOCK_CLASS). */
export async function lockClients(tx: Db, clientIds: readonly number[]): Promise<void> {
  const keys = [...new Set(clientIds.map(keyOf))].sort((a, b) => a - b);
  if (keys.length === 0) return;
  await tx.execute(sql`select pg_advisory_xact_lock(${CLIENT_LOCK_CLASS}::int, k) from unnest(${`{${keys.join(',')}}`}::int[]) as k order by k`);
}
