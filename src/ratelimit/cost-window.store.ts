import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';

export type Charge = { granted: true; spent: number; retryAfterS: number } | { granted: false; retryAfterS: number };

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
  if (row && row.spent !== null) return { granted: true, spent: Number(row.spent), retryAfterS: Math.max(1, Number(row.retry_after)) };
  return { granted: false, retryAfterS: Math.max(1, Number(row?.retry_after ?? 60)) };
}

/** Forgets the minutes that are over. */
export async function deleteOldCostWindows(db: Db): Promise<void> {
  await db.execute(sql`delete from cost_windows where window_start < now() - interval '2 minutes'`);
}

/**
 * Adds what each key spent meanwhile to its current minute, whatever its budget (it was
 * granted already), in one round trip for every key: answers each key's spending since the
 * minute began, by every process, and the seconds left in that minute.
 */
export async function addCosts(db: Db, spent: Map<string, number>): Promise<{ key: string; spent: number; retryAfterS: number }[]> {
  const keys = [...spent.keys()];
  const costs = keys.map((k) => spent.get(k)!);
  const rows = await db.execute<{ key: string; spent: string; retry_after: string }>(sql`
    insert into cost_windows as w (key, window_start, spent)
    select k, date_trunc('minute', now()), c from unnest(${sql.param(keys)}::text[], ${sql.param(costs)}::bigint[]) as t(k, c)
    on conflict (key, window_start) do update set spent = w.spent + excluded.spent
    returning w.key, w.spent, ceil(extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now())) as retry_after`);
  return rows.map((r) => ({ key: r.key, spent: Number(r.spent), retryAfterS: Math.max(1, Number(r.retry_after)) }));
}
