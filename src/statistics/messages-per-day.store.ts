import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';

export type DayFigures = { day: string; sent: number; delivered: number; failed: number };

/**
 * Messages by UTC day over the last `days` days (today included, oldest first, every day
 * listed): sent (accepted by a provider, receipted since or not) on the day it was sent,
 * delivered on the day its receipt said so, failed on the day its last attempt failed.
 * Read through the mailings that were under way in those days (their messages by the
 * (mailing_id, status) index): no index on the messages' times, which would cost every
 * status write its HOT update.
 */
export async function readMessagesPerDay(db: Db, days: number): Promise<DayFigures[]> {
  const rows = await db.execute<{ day: string; sent: number; delivered: number; failed: number }>(sql`
    with span as (
      select (now() at time zone 'UTC')::date - ${days - 1}::int as first_day
    ), recent as (
      select m.id from mailings m, span
      where m.started_at is not null and (m.finished_at is null or m.finished_at >= span.first_day::timestamp at time zone 'UTC')
    ), done as (
      select
        case when msg.status = 'FAILED' then msg.updated_at else coalesce(msg.sent_at, msg.updated_at) end as at,
        msg.status::text as status,
        case when msg.status = 'DELIVERED' then coalesce(msg.delivered_at, msg.updated_at) end as delivered_at
      from messages msg
      where msg.mailing_id in (select id from recent) and msg.status in ('SENT', 'DELIVERED', 'UNDELIVERED', 'FAILED')
    ), by_day as (
      select (at at time zone 'UTC')::date as day,
             count(*) filter (where status <> 'FAILED')::int as sent,
             count(*) filter (where status = 'FAILED')::int as failed
      from done group by 1
    ), delivered_by_day as (
      select (delivered_at at time zone 'UTC')::date as day, count(*)::int as delivered
      from done where delivered_at is not null group by 1
    )
    select to_char(d.day, 'YYYY-MM-DD') as day, coalesce(b.sent, 0) as sent, coalesce(r.delivered, 0) as delivered, coalesce(b.failed, 0) as failed
    from span, generate_series(span.first_day, (now() at time zone 'UTC')::date, interval '1 day') as g(t)
    cross join lateral (select g.t::date as day) d
    left join by_day b on b.day = d.day
    left join delivered_by_day r on r.day = d.day
    order by d.day`);
  return rows.map((r) => ({ day: r.day, sent: Number(r.sent), delivered: Number(r.delivered), failed: Number(r.failed) }));
}
