import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';

export type ThroughputBucket = { at: Date; count: number };
export type ThroughputValue = { bucketSeconds: number; buckets: ThroughputBucket[] };

/**
 * A mailing's messages that reached SENT or FAILED (a receipt since included), counted in
 * about `points` buckets of a whole number of seconds each, from the first such message to
 * the last (empty buckets included): the mailing's own span, whenever it is asked. A
 * message's `updated_at` is when its outcome was written, and a final message is not
 * written again; one a receipt wrote again counts at its `sent_at`. One pass over the
 * mailing's sent and failed messages.
 */
export async function readThroughput(db: Db, mailingId: number, points: number): Promise<ThroughputValue> {
  const rows = await db.execute<{ at: string; width: number; count: number }>(sql`
    with done as (
      -- A receipt writes a SENT message again (DELIVERED, UNDELIVERED): it counts when it was sent.
      select case when status in ('DELIVERED', 'UNDELIVERED') then coalesce(sent_at, updated_at) else updated_at end as at
      from messages where mailing_id = ${mailingId} and status in ('SENT', 'FAILED', 'DELIVERED', 'UNDELIVERED')
    ), span as (
      select min(at) as lo, max(at) as hi,
             greatest(1, ceil(extract(epoch from max(at) - min(at)) / ${points}))::int as width
      from done
    ), buckets as (
      select floor(extract(epoch from done.at - span.lo) / span.width)::int as i, count(*)::int as n
      from done, span group by 1
    )
    select span.lo + make_interval(secs => s.i * span.width) as at, span.width as width, coalesce(b.n, 0) as count
    from span
    cross join generate_series(0, floor(extract(epoch from span.hi - span.lo) / span.width)::int) as s(i)
    left join buckets b on b.i = s.i
    where span.lo is not null
    order by s.i`);
  return {
    bucketSeconds: rows[0]?.width ?? 1,
    buckets: rows.map((r) => ({ at: new Date(r.at), count: r.count })),
  };
}
