import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';

export type Charge = { granted: true } | { granted: false; retryAfterS: number };

/**
 * Adds `cost` to the key's spending in the current minute (the database's clock, the same
 * for every process) unless that would take it over `budget`; one round trip. A refused
 * charge adds nothing, so a client that keeps asking is served again at the next minute.
 */
export async function chargeCost(db: Db, key: string, cost: number, budget: number): Promise<Charge> {
  const rows = await db.execute<{ spent: string | null; retry_after: string }>(sql`
    with charged as (
      insert into cost_windows as w (key, window_start, spent)
      values (${key}, date_trunc('minute', now()), ${cost})
      on conflict (key, window_start) do update set spent = w.spent + excluded.spent
        where w.spent + excluded.spent <= ${budget}
      returning w.spent
    )
    select (select spent from charged) as spent,
           ceil(extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now())) as retry_after`);
  const row = rows[0];
  if (row && row.spent !== null) return { granted: true };
  return { granted: false, retryAfterS: Math.max(1, Number(row?.retry_after ?? 60)) };
}

/** Forgets the minutes that are over. */
export async function deleteOldCostWindows(db: Db): Promise<void> {
  await db.execute(sql`delete from cost_windows where window_start < now() - interval '2 minutes'`);
}
