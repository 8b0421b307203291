import { and, count, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import type { PageRequest } from '../common/page';
import { COUNTERS } from './mailing-stats.store';
import { mailingStats } from './mailing-stats.table';
import { mailings, type MailingRow, type MailingStatus } from './mailing.table';
import { FINAL_STATUSES, isFinal } from './mailing.transitions';
import { columnsOf, type MailingValues } from './mailing.values';

export async function insertMailing(db: Db, values: MailingValues): Promise<MailingRow> {
  const [row] = await db.insert(mailings).values(columnsOf(values)).returning();
  return row;
}

export async function findMailing(db: Db, id: number): Promise<MailingRow | undefined> {
  const [row] = await db.select().from(mailings).where(eq(mailings.id, id));
  return row;
}

/** The mailing and its counter row in one query, so that `mailing { stats }` is one round trip. */
export async function findMailingWithCounts(db: Db, id: number) {
  const [row] = await db
    .select({ mailing: mailings, counts: COUNTERS })
    .from(mailings)
    .leftJoin(mailingStats, eq(mailingStats.mailingId, mailings.id))
    .where(eq(mailings.id, id));
  return row;
}

/** Locks the row for the rest of the transaction: status checks and the write see one state. */
export async function findMailingForUpdate(db: Db, id: number): Promise<MailingRow | undefined> {
  const [row] = await db.select().from(mailings).where(eq(mailings.id, id)).for('update');
  return row;
}

export async function updateMailing(db: Db, id: number, patch: Partial<MailingValues>): Promise<MailingRow> {
  const [row] = await db
    .update(mailings)
    .set({ ...columnsOf(patch), updatedAt: sql`now()` })
    .where(eq(mailings.id, id))
    .returning();
  return row;
}

/**
 * Deletes the mailing and (by cascade) its counter row and audience; its messages and
 * leases are deleted first by the lifecycle. Run under the mailing's lock, so no claim or
 * result write is under way.
 */
export async function deleteMailing(db: Db, id: number): Promise<boolean> {
  const deleted = await db.delete(mailings).where(eq(mailings.id, id)).returning({ id: mailings.id });
  return deleted.length > 0;
}

/** The mailing locked for a transition, with the database's time now (ms). */
export async function findForTransition(db: Db, id: number): Promise<{ mailing: MailingRow; now: number } | undefined> {
  const [row] = await db
    .select({ mailing: mailings, now: sql<number>`extract(epoch from now()) * 1000`.mapWith(Number) })
    .from(mailings)
    .where(eq(mailings.id, id))
    .for('update');
  return row;
}

/** Who paused a mailing (a principal's id, or PAUSED_BY_HERALD) and, when it paused itself, why. */
export type PauseNote = { by: string; reason: string | null };

/**
 * Every status write of a mailing happens here; `finished_at`, `started_at` and the pause's
 * `paused_by`, `paused_at`, `paused_reason` (written by a pause, cleared by any other write)
 * follow it.
 */
export async function setStatus(db: Db, id: number, status: MailingStatus, pause: PauseNote | null = null): Promise<MailingRow> {
  const [row] = await db
    .update(mailings)
    .set({
      status,
      pausedReason: pause?.reason ?? null,
      pausedBy: pause?.by ?? null,
      pausedAt: pause ? sql`now()` : null,
      updatedAt: sql`now()`,
      ...(status === 'RUNNING' ? { startedAt: sql`coalesce(${mailings.startedAt}, now())`, finishedAt: null } : {}),
      ...(isFinal(status) ? { finishedAt: sql`now()` } : {}),
    })
    .where(eq(mailings.id, id))
    .returning();
  return row;
}

/** Whether every message of the mailing is final: no pending row, nobody left in its audience. */
export async function allFinal(db: Db, id: number): Promise<boolean> {
  const [row] = await db
    .select({ left: sql<number>`${mailingStats.pending} + ${mailingStats.queued}`.mapWith(Number) })
    .from(mailingStats)
    .where(eq(mailingStats.mailingId, id));
  return !row || row.left === 0;
}

/** Of these mailings, the running ones whose every message is final (a cheap read, no lock). */
export async function runningAndAllFinal(db: Db, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ id: mailings.id })
    .from(mailings)
    .leftJoin(mailingStats, eq(mailingStats.mailingId, mailings.id))
    .where(and(inArray(mailings.id, [...ids]), eq(mailings.status, 'RUNNING'), sql`coalesce(${mailingStats.pending} + ${mailingStats.queued}, 0) = 0`));
  return rows.map((r) => r.id);
}

/** Newest first: a keyset page walks ids downwards. */
/** Which mailings a list shows: by status, by a part of the name (any case), by when they start. */
export type MailingListFilter = { status: MailingStatus | null; name: string | null; startFrom: Date | null; startTo: Date | null };

export const EVERY_MAILING: MailingListFilter = { status: null, name: null, startFrom: null, startTo: null };

function listCondition(f: MailingListFilter) {
  return and(
    f.status ? eq(mailings.status, f.status) : undefined,
    f.name ? sql`${mailings.name} ilike ${`%${f.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}` : undefined,
    f.startFrom ? gte(mailings.startAt, f.startFrom) : undefined,
    f.startTo ? lt(mailings.startAt, f.startTo) : undefined,
  );
}

export function listMailings(db: Db, filter: MailingListFilter, page: PageRequest): Promise<MailingRow[]> {
  return db
    .select()
    .from(mailings)
    .where(and(listCondition(filter), page.afterId === undefined ? undefined : lt(mailings.id, page.afterId)))
    .orderBy(desc(mailings.id))
    .limit(page.limit + 1);
}

export async function countMailings(db: Db, filter: MailingListFilter): Promise<number> {
  const [row] = await db.select({ n: count() }).from(mailings).where(listCondition(filter));
  return row.n;
}

/** Mailings whose start or end has passed without their timer acting (a process was down). */
export async function overdueMailings(db: Db): Promise<{ toStart: number[]; toEnd: number[] }> {
  // One clock decides both: the database's, as in the transitions themselves.
  const rows = await db
    .select({ id: mailings.id, ended: sql<boolean>`${mailings.endAt} <= now()` })
    .from(mailings)
    .where(
      sql`(${mailings.status} = 'SCHEDULED' and ${mailings.startAt} <= now())
          or (not ${mailings.status} = any(${sql.param(FINAL_STATUSES)}::mailing_status[]) and ${mailings.endAt} <= now())`,
    );
  return { toEnd: rows.filter((r) => r.ended).map((r) => r.id), toStart: rows.filter((r) => !r.ended).map((r) => r.id) };
}
