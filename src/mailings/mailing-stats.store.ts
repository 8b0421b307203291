import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import type { StatusCounts } from '../messages/message.stats';
import { mailingStats } from './mailing-stats.table';

/** The counter columns (not the outcomes kept for the automatic pause). */
export const COUNTERS = {
  mailingId: mailingStats.mailingId,
  pending: mailingStats.pending,
  sent: mailingStats.sent,
  failed: mailingStats.failed,
  expired: mailingStats.expired,
  cancelled: mailingStats.cancelled,
  skipped: mailingStats.skipped,
  delivered: mailingStats.delivered,
  undelivered: mailingStats.undelivered,
  queued: mailingStats.queued,
};

/** Counts by status for each of the given mailings, from the maintained counters (one row each). */
export async function countByStatusForMailings(db: Db, mailingIds: readonly number[]): Promise<Map<number, StatusCounts>> {
  const rows = await db.select(COUNTERS).from(mailingStats).where(inArray(mailingStats.mailingId, [...mailingIds]));
  const byMailing = new Map<number, StatusCounts>(mailingIds.map((id) => [id, {}]));
  for (const { mailingId, ...counts } of rows) byMailing.set(mailingId, countsOf(counts));
  return byMailing;
}

/** Counts by status over every mailing: a sum over one counter row per mailing. */
export async function countByStatus(db: Db): Promise<StatusCounts> {
  const [row] = await db
    .select({
      pending: sql<number>`coalesce(sum(${mailingStats.pending}), 0)::bigint`.mapWith(Number),
      sent: sql<number>`coalesce(sum(${mailingStats.sent}), 0)::bigint`.mapWith(Number),
      failed: sql<number>`coalesce(sum(${mailingStats.failed}), 0)::bigint`.mapWith(Number),
      expired: sql<number>`coalesce(sum(${mailingStats.expired}), 0)::bigint`.mapWith(Number),
      cancelled: sql<number>`coalesce(sum(${mailingStats.cancelled}), 0)::bigint`.mapWith(Number),
      skipped: sql<number>`coalesce(sum(${mailingStats.skipped}), 0)::bigint`.mapWith(Number),
      delivered: sql<number>`coalesce(sum(${mailingStats.delivered}), 0)::bigint`.mapWith(Number),
      undelivered: sql<number>`coalesce(sum(${mailingStats.undelivered}), 0)::bigint`.mapWith(Number),
      queued: sql<number>`coalesce(sum(${mailingStats.queued}), 0)::bigint`.mapWith(Number),
    })
    .from(mailingStats);
  return countsOf(row);
}

/**
 * A counter row as counts by status. Audience members without a message row yet (`queued`)
 * are pending: their message exists for the statistics from the mailing's start.
 */
export function countsOf(c: {
  pending: number; sent: number; failed: number; expired: number; cancelled: number; skipped: number; delivered: number; undelivered: number; queued: number;
}): StatusCounts {
  return {
    PENDING: c.pending + c.queued, SENT: c.sent, FAILED: c.failed, EXPIRED: c.expired, CANCELLED: c.cancelled, SKIPPED: c.skipped,
    DELIVERED: c.delivered, UNDELIVERED: c.undelivered,
  };
}


/**
 * Forgets a mailing's last results (at a resume, a retry of its failures): its failure rate
 * is judged afresh, or a mailing that paused itself would pause again on what made it pause.
 */
export async function forgetRecentOutcomes(db: Db, mailingId: number): Promise<void> {
  await db.execute(sql`update mailing_stats set recent = '{}' where mailing_id = ${mailingId}`);
}

/**
 * Adds the latest results (1 FAILED, 0 SENT, in order) to each mailing's window of its last
 * `window` results, and returns the running mailings whose window, at least `minResults`
 * long, now fails more than their threshold (their own, else `defaultRate`), with the share.
 */
export async function noteOutcomes(
  tx: Db,
  outcomes: ReadonlyMap<number, number[]>,
  window: number,
  minResults: number,
  defaultRate: number,
): Promise<{ mailingId: number; failureRate: number; threshold: number }[]> {
  if (outcomes.size === 0) return [];
  const rows = await tx.execute<{ mailing_id: string; n: number; failed: number; threshold: number }>(sql`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify([...outcomes].map(([m, o]) => ({ mailing_id: m, outcomes: o })))}::jsonb)
        as v(mailing_id bigint, outcomes smallint[])
    ),
    moved as (
      update mailing_stats s
      set recent = (s.recent || v.outcomes)[greatest(1, cardinality(s.recent || v.outcomes) - ${window - 1}):]
      from v where s.mailing_id = v.mailing_id
      returning s.mailing_id, s.recent
    )
    select moved.mailing_id, cardinality(moved.recent) as n,
           (select count(*) from unnest(moved.recent) as o where o = 1)::int as failed,
           coalesce(g.max_failure_rate, ${defaultRate}) as threshold
    from moved join mailings g on g.id = moved.mailing_id
    where g.status = 'RUNNING'`);
  return rows
    .filter((r) => r.n >= minResults && r.failed / r.n > r.threshold)
    .map((r) => ({ mailingId: Number(r.mailing_id), failureRate: Math.round((r.failed / r.n) * 100) / 100, threshold: r.threshold }));
}
