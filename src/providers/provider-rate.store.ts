import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';

/**
 * A reservation's answer. Both times are ms after the instant the database read its clock
 * (clock_timestamp()) in the statement, an instant inside the caller's round trip: the caller
 * places them on its own clock from its send and receive times, so no skew between clocks
 * matters.
 */
export type PartsReservation =
  | { granted: true; startInMs: number }
  | { granted: false; retryInMs: number };

/**
 * Reserves `parts` of a provider's parts-per-second budget, shared by every worker process:
 * a GCRA on the provider's row of provider_budgets, in one statement. The parts are the
 * reserver's from start = max(now, tat) on, and tat moves to start + parts/rate; the
 * reservation is refused (tat untouched) when start would lie more than `horizonMs` ahead,
 * with when to ask again. A provider's first reservation inserts its row. Concurrent
 * reservations queue on the row's lock and each reads the tat the previous one left, so the
 * reserved spans never overlap.
 */
export async function reserveParts(db: Db, provider: string, parts: number, partsPerSecond: number, horizonMs: number): Promise<PartsReservation> {
  const spanMs = (parts * 1000) / partsPerSecond;
  // The clock is read once (materialised: a volatile function in a CTE is never inlined), so
  // start, the horizon and both answers refer to one instant. A statement that waited for the
  // row's lock read it before the wait, which only makes its answers err towards later.
  const rows = await db.execute<{ start_in: number | null; retry_in: number | null }>(sql`
    with clock as materialized (select (extract(epoch from clock_timestamp()) * 1000)::float8 as now),
    granted as (
      insert into provider_budgets as b (provider, tat)
      select ${provider}, clock.now + ${spanMs}::float8 from clock
      on conflict (provider) do update
        set tat = greatest(b.tat, (select now from clock)) + ${spanMs}::float8
        where b.tat <= (select now from clock) + ${horizonMs}::float8
      returning b.tat - ${spanMs}::float8 as start
    )
    select (select start from granted) - clock.now as start_in,
           (select b.tat from provider_budgets b where b.provider = ${provider}) - ${horizonMs}::float8 - clock.now as retry_in
    from clock`);
  const row = rows[0];
  if (row?.start_in !== null && row?.start_in !== undefined) return { granted: true, startInMs: Math.max(0, Number(row.start_in)) };
  // The tat read here is the statement's snapshot, possibly older than the one that refused:
  // asking again a little early costs one more refusal, never an early send.
  return { granted: false, retryInMs: Math.max(0, Number(row?.retry_in ?? 0)) };
}
