import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';

export type RunningMailing = { id: number; unsent: number; secondsLeft: number };
export type QueueFigures = { mailingsByStatus: Map<string, number>; messagesDue: number; running: RunningMailing[] };

/**
 * What a scrape reads from the database: two small aggregates, over the mailings table and
 * the maintained per-mailing counters (one row a mailing), never over messages.
 */
export async function readQueueFigures(db: Db): Promise<QueueFigures> {
  const [byStatus, running] = await Promise.all([
    // mailings by status: a scan of the mailings table, which is small next to messages
    db.execute<{ status: string; n: number }>(sql`select status, count(*)::int as n from mailings group by status`),
    // each running mailing's unsent messages (pending rows and audience members not handed
    // out yet) and the time it has left: through the status index, one counter row each
    db.execute<{ id: string; unsent: string; seconds_left: number }>(sql`
      select m.id, coalesce(s.pending + s.queued, 0)::bigint as unsent,
             greatest(0, extract(epoch from m.end_at - now()))::float8 as seconds_left
      from mailings m left join mailing_stats s on s.mailing_id = m.id
      where m.status = 'RUNNING'`),
  ]);
  const list = [...running].map((r) => ({ id: Number(r.id), unsent: Number(r.unsent), secondsLeft: Number(r.seconds_left) }));
  return {
    mailingsByStatus: new Map([...byStatus].map((r) => [r.status, Number(r.n)])),
    messagesDue: list.reduce((sum, m) => sum + m.unsent, 0),
    running: list,
  };
}
