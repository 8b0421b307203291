import { and, asc, count, desc, eq, gt, gte, inArray, lt, sql } from 'drizzle-orm';
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
/** Mailings by id, for a page of messages naming theirs (Message.mailing); missing ones left out. */
export function findMailingsByIds(db: Db, ids: readonly number[]): Promise<MailingRow[]> {
  return db.select().from(mailings).where(inArray(mailings.id, [...ids]));
}

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

/** How the mailings list may be sorted (each a key below): keyset pages follow it. */
export const MAILING_SORTS = ['CREATED_AT', 'NAME', 'STATUS', 'START_AT', 'STARTED_AT', 'FINISHED_AT', 'DURATION', 'SENT', 'FAILED', 'FAILURE_SHARE', 'DELIVERY_RATE'] as const;
export type MailingSortValue = (typeof MAILING_SORTS)[number];

/** How a list is ordered: by one of MailingSort's keys, either way; ties (and the default) by id, newest first. */
export type MailingListOrder = { sort: MailingSortValue; descending: boolean };

export const NEWEST_FIRST: MailingListOrder = { sort: 'CREATED_AT', descending: true };

/** Each sort key as SQL over mailings `m` and its counter row `s` (left-joined); null when the mailing has none. */
const SORT_KEYS: Record<Exclude<MailingSortValue, 'CREATED_AT'>, string> = {
  NAME: `lower(coalesce(m.name, m.text))`,
  STATUS: `m.status::text`,
  START_AT: `m.start_at`,
  STARTED_AT: `m.started_at`,
  FINISHED_AT: `m.finished_at`,
  DURATION: `extract(epoch from coalesce(m.finished_at, now()) - m.started_at)`,
  SENT: `(coalesce(s.sent, 0) + coalesce(s.delivered, 0) + coalesce(s.undelivered, 0))`,
  FAILED: `coalesce(s.failed, 0)`,
  FAILURE_SHARE: `(coalesce(s.failed, 0)::float8 / nullif(coalesce(s.sent, 0) + coalesce(s.delivered, 0) + coalesce(s.undelivered, 0) + coalesce(s.failed, 0), 0))`,
  DELIVERY_RATE: `(coalesce(s.delivered, 0)::float8 / nullif(coalesce(s.delivered, 0) + coalesce(s.undelivered, 0), 0))`,
};

/**
 * A keyset page in `order`: the cursor is the last row's id, and the next page starts after
 * that row's (key, id), read again here, so a cursor stays valid as counts move (a row
 * whose key moved since may show twice or not at all, as in any live keyset list).
 * Null keys come last either way (`nulls last`, and a row-wise comparison that treats
 * them as the greatest key when ascending and the least when descending).
 */
export async function listMailings(db: Db, filter: MailingListFilter, page: PageRequest, order: MailingListOrder = NEWEST_FIRST): Promise<MailingRow[]> {
  if (order.sort === 'CREATED_AT') {
    const compare = order.descending ? lt : gt;
    return db
      .select()
      .from(mailings)
      .where(and(listCondition(filter), page.afterId === undefined ? undefined : compare(mailings.id, page.afterId)))
      .orderBy(order.descending ? desc(mailings.id) : asc(mailings.id))
      .limit(page.limit + 1);
  }
  const key = sql.raw(SORT_KEYS[order.sort]);
  const dir = sql.raw(order.descending ? 'desc' : 'asc');
  // Nulls as a sentinel flag first: (flag, key, -id) or (flag, key, id) sort as one tuple.
  const flag = sql`(${key} is null)`;
  let after = sql`true`;
  if (page.afterId !== undefined) {
    const cmp = sql.raw(order.descending ? '<' : '>');
    after = sql`(
      with a as (select ${key} as k, (${key}) is null as f from mailings m left join mailing_stats s on s.mailing_id = m.id where m.id = ${page.afterId})
      select case
        when not exists (select 1 from a) then m.id < ${page.afterId}
        when (select f from a) then ${flag} and m.id < ${page.afterId}
        else not ${flag} and (${key} ${cmp} (select k from a) or (${key} = (select k from a) and m.id < ${page.afterId})) or ${flag}
      end)`;
  }
  const condition = listCondition(filter);
  const rows = await db.execute<{ id: string }>(sql`
    select m.id from mailings m left join mailing_stats s on s.mailing_id = m.id
    where ${condition ? sql`m.id in (select ${mailings.id} from ${mailings} where ${condition})` : sql`true`} and ${after}
    order by ${key} ${dir} nulls last, m.id desc
    limit ${page.limit + 1}`);
  const ids = rows.map((r) => Number(r.id));
  if (ids.length === 0) return [];
  const found = new Map((await db.select().from(mailings).where(inArray(mailings.id, ids))).map((m) => [m.id, m]));
  return ids.flatMap((id) => found.get(id) ?? []);
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
