import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';

export type QueueFigures = { mailingsByStatus: Map<string, number>; messagesDue: number };

/**
 * What a scrape reads from the database: two small aggregates, over the mailings table and
 * the maintained per-mailing counters (one row a mailing), never over messages.
 */
export async function readQueueFigures(db: Db): Promise<QueueFigures> {
  const [byStatus, due] = await Promise.all([
    // mailings by status: a scan of the mailings table, which is small next to messages
    db.execute<{ status: string; n: number }>(sql`select status, count(*)::int as n from mailings group by status`),
    // unsent messages of running mailings: pending rows and audience members not handed out yet
    db.execute<{ n: string | null }>(sql`
      select coalesce(sum(s.pending + s.queued), 0)::bigint as n
      from mailing_stats s join mailings m on m.id = s.mailing_id
      where m.status = 'RUNNING'`),
  ]);
  return {
    mailingsByStatus: new Map([...byStatus].map((r) => [r.status, Number(r.n)])),
    messagesDue: Number([...due][0]?.n ?? 0),
  };
}
