import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import { notifyProviders } from '../events/event.channel';

/** One worker process's view of one provider, as it writes it to provider_states. */
export type ProviderStateRow = {
  provider: string;
  type: string;
  state: string;
  reason: string | null;
  inFlight: number;
  bindsUp: number | null;
  binds: number | null;
  partsPerSecond: number;
  sentPerSecond: number;
};

/** One provider over the worker processes whose rows are fresh: counts and sums, for the directory to decide with. */
export type ProviderStateAggregate = {
  provider: string;
  /** worker processes that report it */
  workers: number;
  up: number;
  down: number;
  inFlight: number;
  sentPerSecond: number;
  /** null when no worker reports binds (HTTP) */
  bindsUp: number | null;
  binds: number | null;
  /** each distinct reason with how many workers give it, most given first */
  reasons: { reason: string; workers: number }[];
};

/**
 * Writes this owner's rows (one statement), stamped with the database's clock so that every
 * process judges freshness alike; with `announce`, NOTIFYs the api processes in the same
 * transaction, so they never re-read before the rows are there.
 */
export async function writeProviderStates(db: Db, owner: string, rows: readonly ProviderStateRow[], announce: boolean): Promise<void> {
  if (rows.length === 0 && !announce) return;
  await db.transaction(async (tx) => {
    if (rows.length > 0) {
      await tx.execute(sql`
        insert into provider_states as s
          (provider, owner, type, state, reason, in_flight, binds_up, binds, parts_per_second, sent_per_second, updated_at)
        select r.provider, ${owner}, r.type, r.state, r.reason, r.in_flight, r.binds_up, r.binds, r.parts_per_second, r.sent_per_second, now()
        from jsonb_to_recordset(${JSON.stringify(rows.map(toColumns))}::jsonb)
          as r(provider text, type text, state text, reason text, in_flight integer, binds_up integer, binds integer,
               parts_per_second double precision, sent_per_second double precision)
        on conflict (provider, owner) do update set
          type = excluded.type, state = excluded.state, reason = excluded.reason, in_flight = excluded.in_flight,
          binds_up = excluded.binds_up, binds = excluded.binds, parts_per_second = excluded.parts_per_second,
          sent_per_second = excluded.sent_per_second, updated_at = excluded.updated_at`);
    }
    if (announce) await tx.execute(notifyProviders());
  });
}

/** Deletes this owner's rows (a worker stopping) and announces it. */
export async function deleteProviderStates(db: Db, owner: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`delete from provider_states where owner = ${owner}`);
    await tx.execute(notifyProviders());
  });
}

/** Per provider, the rows updated within `freshMs` on the database's clock, counted and summed. */
export async function readProviderAggregates(db: Db, freshMs: number): Promise<ProviderStateAggregate[]> {
  const rows = await db.execute<{
    provider: string;
    workers: number;
    up: number;
    down: number;
    in_flight: number;
    sent_per_second: number;
    binds_up: number | null;
    binds: number | null;
    reasons: { reason: string; workers: number }[] | null;
  }>(sql`
    with fresh as (
      select * from provider_states where updated_at > now() - ${freshMs} * interval '1 millisecond'
    ), reasons as (
      select provider, reason, count(*)::int as workers from fresh where reason is not null group by provider, reason
    )
    select f.provider,
           count(*)::int as workers,
           (count(*) filter (where f.state = 'UP'))::int as up,
           (count(*) filter (where f.state = 'DOWN'))::int as down,
           coalesce(sum(f.in_flight), 0)::int as in_flight,
           coalesce(sum(f.sent_per_second), 0)::float8 as sent_per_second,
           sum(f.binds_up)::int as binds_up,
           sum(f.binds)::int as binds,
           (select jsonb_agg(jsonb_build_object('reason', r.reason, 'workers', r.workers) order by r.workers desc, r.reason)
              from reasons r where r.provider = f.provider) as reasons
    from fresh f
    group by f.provider
    order by f.provider`);
  return rows.map((r) => ({
    provider: r.provider,
    workers: r.workers,
    up: r.up,
    down: r.down,
    inFlight: r.in_flight,
    sentPerSecond: r.sent_per_second,
    bindsUp: r.binds_up,
    binds: r.binds,
    reasons: r.reasons ?? [],
  }));
}

/** Deletes the rows of processes gone without a word (not refreshed for `staleMs`); how many. */
export async function sweepProviderStates(db: Db, staleMs: number): Promise<number> {
  const rows = await db.execute<{ provider: string }>(
    sql`delete from provider_states where updated_at < now() - ${staleMs} * interval '1 millisecond' returning provider`,
  );
  return rows.length;
}

function toColumns(r: ProviderStateRow) {
  return {
    provider: r.provider,
    type: r.type,
    state: r.state,
    reason: r.reason,
    in_flight: r.inFlight,
    binds_up: r.bindsUp,
    binds: r.binds,
    parts_per_second: r.partsPerSecond,
    sent_per_second: r.sentPerSecond,
  };
}
