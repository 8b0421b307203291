import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import type { Recipient } from '../mailings/audience.store';
import type { MailingStatus } from '../mailings/mailing.table';

/** What sending a mailing's messages needs from it, read by a claim under its lock. */
export type MailingForClaim = {
  id: number;
  status: MailingStatus;
  text: string;
  endAt: number;
  windowFrom: number | null;
  windowTo: number | null;
  frequencyCapCount: number | null;
  frequencyCapWindowS: number | null;
  /** the database's clock when it was read (ms) */
  now: number;
};

export async function mailingForClaim(tx: Db, id: number): Promise<MailingForClaim | undefined> {
  const [row] = await tx.execute<{
    status: MailingStatus;
    text: string;
    end_ms: number;
    window_from: number | null;
    window_to: number | null;
    cap_count: number | null;
    cap_window_s: number | null;
    now_ms: number;
  }>(sql`
    select status, text, extract(epoch from end_at) * 1000 as end_ms, send_window_from as window_from, send_window_to as window_to,
           frequency_cap_count as cap_count, frequency_cap_window_s as cap_window_s,
           extract(epoch from clock_timestamp()) * 1000 as now_ms
    from mailings where id = ${id}`);
  if (!row) return undefined;
  return {
    id,
    status: row.status,
    text: row.text,
    endAt: Number(row.end_ms),
    windowFrom: row.window_from,
    windowTo: row.window_to,
    frequencyCapCount: row.cap_count,
    frequencyCapWindowS: row.cap_window_s,
    now: Number(row.now_ms),
  };
}

/** The running mailings, oldest first: what the dispatcher goes round. */
export async function runningMailings(db: Db): Promise<number[]> {
  const rows = await db.execute<{ id: string }>(sql`select id from mailings where status = 'RUNNING' order by id`);
  return rows.map((r) => Number(r.id));
}

/** A message that already has a row, due again (a retry, or its send window opened). */
export type DueMessage = Recipient & { id: number; clientId: number; phone: string; timezone: string; attempts: number };

/**
 * Claims up to `limit` of the mailing's due messages that have rows: their next attempt is
 * moved `leaseMs` on, which is the lease (no other claim finds them due meanwhile; if this
 * process dies, they are due again then). A message whose client has left the directory
 * since its last attempt is removed instead, as its other unsent messages were.
 */
export async function claimDue(tx: Db, mailingId: number, limit: number, leaseMs: number): Promise<DueMessage[]> {
  const rows = await tx.execute<{ id: string; client_id: string; phone: string; timezone: string; attempts: number; client_gone: boolean; name: string | null; attributes: Record<string, string> | null; opted_out: boolean }>(sql`
    update messages m set next_attempt_at = now() + ${leaseMs} * interval '1 millisecond'
    from (
      select id from messages
      where mailing_id = ${mailingId} and status = 'PENDING' and next_attempt_at <= now()
      order by next_attempt_at, id limit ${limit}
      for update skip locked
    ) due
    where m.id = due.id
    returning m.id, m.client_id, m.phone, m.timezone, m.attempts,
              not exists (select 1 from clients c where c.id = m.client_id) as client_gone,
              (select c.name from clients c where c.id = m.client_id) as name,
              (select c.attributes from clients c where c.id = m.client_id) as attributes,
              exists (select 1 from opt_outs o where o.phone = m.phone) as opted_out`);
  const gone = rows.filter((r) => r.client_gone).map((r) => r.id);
  if (gone.length > 0) await tx.execute(sql`delete from messages where id = any(${`{${gone.join(',')}}`}::bigint[])`);
  return rows
    .filter((r) => !r.client_gone)
    .map((r) => ({
      id: Number(r.id),
      clientId: Number(r.client_id),
      phone: r.phone,
      timezone: r.timezone,
      attempts: r.attempts,
      name: r.name,
      attributes: r.attributes ?? {},
      optedOut: r.opted_out,
    }));
}

/** Retries this process claimed and will not send (it stops): due again at once, for anyone. */
export async function releaseDue(tx: Db, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.execute(sql`update messages set next_attempt_at = now() where id = any(${`{${ids.join(',')}}`}::bigint[]) and status = 'PENDING'`);
}

/** When the mailing's next message with a row comes due, if any (ms, database clock). */
export async function nextDueAt(tx: Db, mailingId: number): Promise<number | null> {
  const [row] = await tx.execute<{ at: number | null }>(sql`
    select extract(epoch from min(next_attempt_at)) * 1000 as at from messages where mailing_id = ${mailingId} and status = 'PENDING'`);
  return row?.at == null ? null : Number(row.at);
}

/** The status of each of these mailings that still exists. */
export async function mailingStatuses(tx: Db, ids: readonly number[]): Promise<Map<number, MailingStatus>> {
  const rows = await tx.execute<{ id: string; status: MailingStatus }>(sql`
    select id, status from mailings where id = any(${`{${ids.join(',')}}`}::bigint[])`);
  return new Map(rows.map((r) => [Number(r.id), r.status]));
}

/** A message's result, as written: its row is created with it, or updated (a retry). */
export type ResultRow = {
  id: number;
  mailingId: number;
  clientId: number;
  phone: string;
  timezone: string;
  status: 'PENDING' | 'SENT' | 'FAILED' | 'EXPIRED' | 'CANCELLED' | 'SKIPPED';
  /** whether a request was made (counts into attempts) */
  attempted: boolean;
  error: string | null;
  /** the text it was sent with (null when no request was made) */
  text: string | null;
  /** ms; for PENDING */
  nextAttemptAt: number | null;
  /** ms; when the answer came */
  at: number;
};

/**
 * Writes results in one statement. A message's first result creates its row (under the id
 * it was sent with); a later one (a retry's, or a first one written already by whoever took
 * its lease over) updates the row: only a PENDING one — a message expired, cancelled or
 * already answered meanwhile stays as it is — except that SENT always wins: the gateway
 * accepted it, and the history must say so even if the mailing ended while the answer was on
 * its way. last_error keeps the last failure, also after a later success. Returns the
 * messages that changed, by mailing.
 *
 * The insert and the update read the same snapshot, so a row the insert creates is not also
 * updated. Plain inserts for the common case: an INSERT … ON CONFLICT DO UPDATE cost half as
 * much again, with the update trigger fired for nothing.
 */
export async function writeResults(tx: Db, results: readonly ResultRow[]): Promise<Map<number, number[]>> {
  if (results.length === 0) return new Map();
  const rows = JSON.stringify(
    results.map((r) => ({
      id: r.id,
      mailing_id: r.mailingId,
      client_id: r.clientId,
      phone: r.phone,
      timezone: r.timezone,
      status: r.status,
      attempts: r.attempted ? 1 : 0,
      error: r.error,
      text: r.text,
      next_ms: r.nextAttemptAt,
      at_ms: r.at,
    })),
  );
  const changed = await tx.execute<{ id: string; mailing_id: string }>(sql`
    with v as (
      select v.id, v.mailing_id, v.client_id, v.phone, v.timezone, v.status::message_status as status, v.attempts, v.error, v.text,
             case when v.status = 'SENT' then to_timestamp(v.at_ms / 1000.0) end as sent_at,
             coalesce(to_timestamp(v.next_ms / 1000.0), now()) as next_attempt_at
      from jsonb_to_recordset(${rows}::jsonb)
        as v(id bigint, mailing_id bigint, client_id bigint, phone text, timezone text, status text, attempts int, error text, text text, next_ms float8, at_ms float8)
    ),
    inserted as (
      insert into messages (id, mailing_id, client_id, phone, timezone, status, attempts, last_error, text, sent_at, next_attempt_at, updated_at)
      overriding system value
      select id, mailing_id, client_id, phone, timezone, status, attempts, error, text, sent_at, next_attempt_at, now()
      -- A client handed out twice (a claim whose commit was lost after its requests went
      -- out, and the claim after it): its first message stands, the other's result is
      -- dropped, whether the first is a row already or in this same batch (both answered
      -- within one flush: without this the batch broke the (mailing, client) key, and was
      -- tried again, and broke it again, for good).
      from (select distinct on (mailing_id, client_id) * from v order by mailing_id, client_id, id) v
      where not exists (select 1 from messages x where x.mailing_id = v.mailing_id and x.client_id = v.client_id and x.id <> v.id)
      order by id
      on conflict (id) do nothing
      returning id, mailing_id
    ),
    updated as (
      update messages m set
        status = v.status,
        attempts = m.attempts + v.attempts,
        last_error = coalesce(v.error, m.last_error),
        text = coalesce(v.text, m.text),
        sent_at = coalesce(v.sent_at, m.sent_at),
        next_attempt_at = v.next_attempt_at,
        updated_at = now()
      from v
      where m.id = v.id
        and (m.status = 'PENDING' or (v.status = 'SENT' and m.status in ('EXPIRED', 'CANCELLED')))
      returning m.id, m.mailing_id
    )
    select id, mailing_id from inserted union all select id, mailing_id from updated`);
  const byMailing = new Map<number, number[]>();
  for (const r of changed) {
    const mailingId = Number(r.mailing_id);
    let ids = byMailing.get(mailingId);
    if (!ids) byMailing.set(mailingId, (ids = []));
    ids.push(Number(r.id));
  }
  return byMailing;
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
