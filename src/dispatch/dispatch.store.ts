import type { Sql, TransactionSql } from 'postgres';
import { EVENT_CHANNEL, MESSAGE_IDS_PER_EVENT } from '../events/event.channel';

/** a connection pool or a transaction: the statements here run on either */
type Queryable = Sql | TransactionSql;

/** A message claimed for sending, with what sending it needs from its mailing. */
export type ClaimedMessage = {
  id: number;
  mailingId: number;
  clientId: number;
  phone: string;
  timezone: string;
  attempts: number;
  text: string;
  endAt: number;
  windowFrom: number | null;
  windowTo: number | null;
};

/**
 * Where a claim resumes: just after the (next_attempt_at, id) of the last message claimed.
 * The time is kept as Postgres printed it: a JS Date would drop the microseconds, and a
 * whole audience shares one next_attempt_at.
 */
export type ClaimCursor = { nextAttemptAt: string; id: number; atMs: number };

/**
 * Claims up to `limit` due messages of running mailings, inside the caller's transaction,
 * which then sends them and writes their results before it commits. The claim is a row lock
 * and nothing else: SKIP LOCKED lets any number of dispatchers (in any number of processes)
 * claim side by side without taking the same message, and a dispatcher that dies takes its
 * locks with it, so its messages are due again at once. Writing a lease into each row cost
 * a new row version and six index entries per message, the most of the database's work.
 *
 * Pause, cancel, delete and expiry each take every PENDING message of their mailing that no
 * batch holds (holdUnsentMessages) and write them all (park, cancel, delete, expire), so
 * they wait for the batches in flight to commit, and a claim after them finds nothing due:
 * once such a mutation has returned, no message of that mailing is sent. (A FOR SHARE lock on the mailing row did this before, but batches that
 * overlap keep a share lock on it without a gap, and the pause waiting for it starved.)
 *
 * The scan walks the due-index from `after` on. The index keeps entries of messages that
 * were PENDING until vacuum removes them; on a large mailing, starting from the front every
 * time walked all the sent ones.
 */
export async function claimDue(
  tx: Queryable,
  limit: number,
  after: ClaimCursor | null,
): Promise<{ messages: ClaimedMessage[]; cursor: ClaimCursor | null }> {
  const rows = await tx<
    { id: string; mailing_id: string; client_id: string; phone: string; timezone: string; attempts: number; text: string; end_at: Date; window_from: number | null; window_to: number | null; cursor_at: string; cursor_ms: number }[]
  >`
    select m.id, m.mailing_id, m.client_id, m.phone, m.timezone, m.attempts, m.next_attempt_at::text as cursor_at, extract(epoch from m.next_attempt_at)::float8 * 1000 as cursor_ms,
           g.text, g.end_at, g.send_window_from as window_from, g.send_window_to as window_to
    from messages m
    join mailings g on g.id = m.mailing_id
    where m.status = 'PENDING'
      and m.next_attempt_at <= now()
      ${after ? tx`and (m.next_attempt_at, m.id) > (${after.nextAttemptAt}::timestamptz, ${after.id}::bigint)` : tx``}
      and g.status = 'RUNNING'
      and g.end_at > now()
    order by m.next_attempt_at, m.id
    limit ${limit}
    for update of m skip locked`;
  const last = rows.at(-1);
  const cursor = last ? { nextAttemptAt: last.cursor_at, id: Number(last.id), atMs: last.cursor_ms } : null;
  const messages = rows.map((r) => ({
    id: Number(r.id),
    mailingId: Number(r.mailing_id),
    clientId: Number(r.client_id),
    phone: r.phone,
    timezone: r.timezone,
    attempts: r.attempts,
    text: r.text,
    endAt: r.end_at.getTime(),
    windowFrom: r.window_from,
    windowTo: r.window_to,
  }));
  return { messages, cursor };
}

/** What became of a claimed message; written back in batches. */
export type MessageResult = {
  id: number;
  mailingId: number;
  /** the status it moves to (PENDING: it will be tried again at nextAttemptAt) */
  status: 'PENDING' | 'SENT' | 'FAILED' | 'EXPIRED';
  /** whether a request was made (counts into attempts) */
  attempted: boolean;
  error: string | null;
  nextAttemptAt: number | null;
  at: number;
};

/**
 * Writes a batch of results in one statement. Only PENDING
 * messages change — a message expired, cancelled or deleted meanwhile stays as it is —
 * except that a SENT result always wins: the gateway accepted it, and the history must say
 * so even if the mailing ended while the answer was on its way. last_error keeps the last
 * failure, also once a later attempt succeeded. The same statement announces the changed
 * messages on the event channel, a few hundred ids an event.
 */
export async function recordResults(sql: Queryable, results: MessageResult[]): Promise<void> {
  if (results.length === 0) return;
  // One JSON parameter: postgres.js would send a null inside a text[] as the string 'NULL'.
  const rows = results.map((r) => ({
      id: r.id,
      status: r.status,
      attempted: r.attempted,
      error: r.error,
      next_at: r.nextAttemptAt === null ? null : new Date(r.nextAttemptAt).toISOString(),
      at: new Date(r.at).toISOString(),
    }));
  await sql`
    with changed as (
    update messages m
    set status = v.status::message_status,
        attempts = m.attempts + v.attempted::int,
        last_error = coalesce(v.error, m.last_error),
        sent_at = case when v.status = 'SENT' then v.at else m.sent_at end,
        next_attempt_at = coalesce(v.next_at, m.next_attempt_at),
        updated_at = now()
    from jsonb_to_recordset(${sql.json(rows)})
      as v(id bigint, status text, attempted bool, error text, next_at timestamptz, at timestamptz)
    where m.id = v.id
      and (m.status = 'PENDING' or (v.status = 'SENT' and m.status in ('EXPIRED', 'CANCELLED')))
    returning m.id, m.mailing_id
    ),
    chunks as (
      select mailing_id, json_agg(id order by id) as ids
      from (select id, mailing_id, (row_number() over (partition by mailing_id order by id) - 1) / ${MESSAGE_IDS_PER_EVENT} as chunk from changed) numbered
      group by mailing_id, chunk
    )
    select pg_notify(${EVENT_CHANNEL}, json_build_object('t', 'messages', 'm', mailing_id, 'ids', ids)::text) from chunks`;
}

/**
 * Marks COMPLETED those of the given running mailings with no PENDING message left. Run
 * after the results' own statement has committed, so the last writer sees every other
 * writer's counts.
 */
export async function completeFinished(sql: Sql, mailingIds: number[]): Promise<number[]> {
  if (mailingIds.length === 0) return [];
  const rows = await sql<{ id: string }[]>`
    with done as (
      update mailings g
      set status = 'COMPLETED', finished_at = now(), updated_at = now()
      where g.id = any(${mailingIds}::bigint[])
        and g.status = 'RUNNING'
        -- From the counters, not the messages: on a large mailing the index holds many
        -- dead PENDING entries of sent messages, and walking them made every flush slower.
        and exists (select 1 from mailing_stats s where s.mailing_id = g.id and s.pending = 0)
      returning g.id
    )
    select id, pg_notify(${EVENT_CHANNEL}, json_build_object('t', 'mailing', 'm', id, 'k', 'COMPLETED', 's', 'COMPLETED')::text) from done`;
  return rows.map((r) => Number(r.id));
}
