import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import { countByStatusForMailings } from '../mailings/mailing-stats.store';
import { toMessageStats } from '../messages/message.stats';
import { NO_REASON } from '../messages/message.store';

export type ReportMailing = {
  id: number;
  name: string | null;
  status: string;
  startedAt: Date;
  finishedAt: Date | null;
  counts: { pending: number; sent: number; failed: number; expired: number; cancelled: number; skipped: number; delivered: number; undelivered: number };
  /** FAILED and UNDELIVERED messages by status and reason, most frequent first */
  failures: { status: 'FAILED' | 'UNDELIVERED'; reason: string; count: number }[];
};

/**
 * The mailings that ran during [since, until): started before its end and not finished
 * before its start, with their counts and their failures grouped by reason (an index range
 * per mailing: messages by mailing and status).
 */
export async function mailingsRunBetween(db: Db, since: Date, until: Date): Promise<ReportMailing[]> {
  const rows = await db.execute<{ id: string; name: string | null; status: string; started_at: string; finished_at: string | null }>(sql`
    select m.id, m.name, m.status, m.started_at, m.finished_at
    from mailings m
    where m.started_at is not null and m.started_at < ${until.toISOString()}::timestamptz
      and (m.finished_at is null or m.finished_at >= ${since.toISOString()}::timestamptz)
    order by m.id`);
  const ids = [...rows].map((r) => Number(r.id));
  // The counts as every other view reads them (the maintained counters).
  const counts = ids.length === 0 ? new Map() : await countByStatusForMailings(db, ids);
  const mailings = [...rows].map((r) => {
    const { pending, sent, failed, expired, cancelled, skipped, delivered, undelivered } = toMessageStats(counts.get(Number(r.id)) ?? {});
    return {
      id: Number(r.id),
      name: r.name,
      status: r.status,
      startedAt: new Date(r.started_at),
      finishedAt: r.finished_at ? new Date(r.finished_at) : null,
      counts: { pending, sent, failed, expired, cancelled, skipped, delivered, undelivered },
      failures: [] as ReportMailing['failures'],
    };
  });
  if (mailings.length === 0) return mailings;
  const byId = new Map(mailings.map((m) => [m.id, m]));
  const failures = await db.execute<{ mailing_id: string; status: 'FAILED' | 'UNDELIVERED'; reason: string | null; n: number }>(sql`
    select mailing_id, status::text as status, last_error as reason, count(*)::int as n
    from messages
    where mailing_id = any(${`{${mailings.map((m) => m.id).join(',')}}`}::bigint[]) and status in ('FAILED', 'UNDELIVERED')
    group by mailing_id, status, last_error
    order by mailing_id, n desc, status, reason`);
  for (const f of failures) byId.get(Number(f.mailing_id))?.failures.push({ status: f.status, reason: f.reason ?? NO_REASON, count: f.n });
  return mailings;
}
