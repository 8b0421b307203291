import { and, asc, count, eq, gt, inArray, isNull, like, sql, type SQL } from 'drizzle-orm';
import { numberArray, textArray } from '../db/arrays';
import type { Db } from '../db/connection';
import type { PageRequest } from '../common/page';
import { messages, type MessageRow, type MessageStatus } from './message.table';
import { fromOf, MESSAGE_TRANSITIONS, mayBecomeSql, statusListSql } from './message.transitions';

/**
 * Every write of a message row, and so of its status, is here: the dispatcher's claims of
 * due messages and their results, a mailing's end, cancellation and retry, the closing of
 * members that never went out, a mailing's deletion. Each applies an event of
 * message.transitions.ts; the statuses the SQL may change are taken from that table. (The
 * triggers on clients, drizzle/0007 and 0008, add a row for a member who leaves the
 * directory before its turn and drop a leaving client's unsent ones; the counter triggers
 * keep mailing_stats.) Every function runs in its caller's transaction.
 */

const idArray = (ids: readonly number[]) => `{${ids.join(',')}}`;

// ---- reads -------------------------------------------------------------------------------

/**
 * What a mailing's message browser narrows by: a status, digits of the phone the message went
 * to (`messages.phone`, copied at audience time, so a deleted or renumbered client's history is
 * found by the number it was sent to), and a failure reason (`lastError`; NO_REASON for none,
 * as failureReasons names it). A status walks its range of messages_mailing_status_id_idx; the
 * phone and reason are checked on the rows of that range.
 */
export type MessageListing = { status: MessageStatus | null; phoneContains?: string | null; reason?: string | null };

function mailingMessagesCondition(mailingId: number, { status, phoneContains, reason }: MessageListing) {
  return and(
    eq(messages.mailingId, mailingId),
    status ? eq(messages.status, status) : undefined,
    phoneContains ? like(messages.phone, `%${phoneContains}%`) : undefined,
    reason == null ? undefined : reason === NO_REASON ? isNull(messages.lastError) : eq(messages.lastError, reason),
  );
}

export function listMailingMessages(db: Db, mailingId: number, listing: MessageListing, page: PageRequest): Promise<MessageRow[]> {
  return db
    .select()
    .from(messages)
    .where(and(mailingMessagesCondition(mailingId, listing), page.afterId === undefined ? undefined : gt(messages.id, page.afterId)))
    .orderBy(asc(messages.id))
    .limit(page.limit + 1);
}

export async function countMailingMessages(db: Db, mailingId: number, listing: MessageListing): Promise<number> {
  const [row] = await db.select({ n: count() }).from(messages).where(mailingMessagesCondition(mailingId, listing));
  return row.n;
}

/**
 * A client's messages across mailings, newest mailing first, after mailing `afterMailingId`.
 * No index on messages by client (one more index to write per message sent, on the hot path):
 * each mailing is probed through messages_mailing_client_key (mailing_id, client_id), newest
 * first, until the page is full; a client has at most one message per mailing, so the mailing
 * id is the page's key. The cost grows with the number of mailings (an index probe each), not
 * with the number of messages.
 */
export async function listClientMessages(db: Db, clientId: number, limit: number, afterMailingId: number | undefined): Promise<MessageRow[]> {
  const rows = await db.execute<{ id: string; mailing_id: string }>(sql`
    select m.id, g.id as mailing_id from mailings g
    cross join lateral (select x.id from messages x where x.mailing_id = g.id and x.client_id = ${clientId}) m
    where ${afterMailingId === undefined ? sql`true` : sql`g.id < ${afterMailingId}`}
    order by g.id desc
    limit ${limit}`);
  if (rows.length === 0) return [];
  // By (id, mailing id): the partitions of those mailings only.
  const found = await db
    .select()
    .from(messages)
    .where(and(inArray(messages.mailingId, rows.map((r) => Number(r.mailing_id))), inArray(messages.id, rows.map((r) => Number(r.id)))));
  return found.sort((a, b) => b.mailingId - a.mailingId);
}

export async function countClientMessages(db: Db, clientId: number): Promise<number> {
  const [row] = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from mailings g
    where exists (select 1 from messages x where x.mailing_id = g.id and x.client_id = ${clientId})`);
  return row.n;
}

export const NO_REASON = '(no reason given)';

/**
 * A mailing's failed, undelivered and expired messages grouped by (status, last_error), most
 * frequent first: three ranges of messages_mailing_status_id_idx (mailing, status), each row
 * read from the heap for its last_error (not in the index).
 */
export async function failureReasons(db: Db, mailingId: number, limit: number): Promise<{ status: MessageStatus; reason: string; count: number }[]> {
  const rows = await db.execute<{ status: MessageStatus; reason: string | null; n: number }>(sql`
    select status::text as status, last_error as reason, count(*)::int as n
    from messages
    where mailing_id = ${mailingId} and status in ('FAILED', 'UNDELIVERED', 'EXPIRED')
    group by status, last_error
    order by n desc, status, last_error nulls last
    limit ${limit}`);
  return [...rows].map((r) => ({ status: r.status, reason: r.reason ?? NO_REASON, count: r.n }));
}

/** When the mailing's next message with a row comes due, if any (ms, database clock). */
export async function nextDueAt(tx: Db, mailingId: number): Promise<number | null> {
  const [row] = await tx.execute<{ at: number | null }>(sql`
    select extract(epoch from min(next_attempt_at)) * 1000 as at from messages where mailing_id = ${mailingId} and status = 'PENDING'`);
  return row?.at == null ? null : Number(row.at);
}

// ---- the dispatcher's claims and results -------------------------------------------------

/** What a message's text and fate need of its client now: its name and attributes, and whether its phone opted out. */
export type Recipient = {
  name: string | null;
  attributes: Record<string, string>;
  optedOut: boolean;
  /** which providers it goes through (the routes); null when the client left */
  operatorCode: string | null;
};

export type RecipientRow = { name: string | null; attributes: Record<string, string> | null; opted_out: boolean; operator_code: string | null };
export const toRecipient = (r: RecipientRow): Recipient => ({ name: r.name, attributes: r.attributes ?? {}, optedOut: r.opted_out, operatorCode: r.operator_code });

/** The SQL that reads a Recipient for client row `c` (which may be missing: the client left). */
export const RECIPIENT_COLUMNS = sql`c.name, c.attributes, c.operator_code, exists (select 1 from opt_outs o where o.phone = c.phone) as opted_out`;

/** A message that already has a row, due again (a retry, or its send window opened). */
export type DueMessage = Recipient & { id: number; clientId: number; phone: string; timezone: string; attempts: number; provider: string | null };

/**
 * Claims up to `limit` of the mailing's due messages that have rows: their next attempt is
 * moved `leaseMs` on, which is the lease (no other claim finds them due meanwhile; if this
 * process dies, they are due again then). A message whose client has left the directory
 * since its last attempt is removed instead, as its other unsent messages were.
 */
export async function claimDue(tx: Db, mailingId: number, limit: number, leaseMs: number, partition?: string): Promise<DueMessage[]> {
  const rows = await tx.execute<{ id: string; client_id: string; phone: string; timezone: string; attempts: number; provider: string | null; client_gone: boolean } & RecipientRow>(sql`
    update ${sql.identifier(partition ?? 'messages')} m set next_attempt_at = now() + ${leaseMs} * interval '1 millisecond'
    from (
      select id, mailing_id from messages
      where mailing_id = ${mailingId} and status = 'PENDING' and next_attempt_at <= now()
      order by next_attempt_at, id limit ${limit}
      for update skip locked
    ) due
    -- On the whole key: one probe each, in the mailing's partition (drizzle/0014), which is
    -- named when known (PartitionLookup): then planned over that table alone.
    where m.mailing_id = due.mailing_id and m.id = due.id
    returning m.id, m.client_id, m.phone, m.timezone, m.attempts, m.provider,
              not exists (select 1 from clients c where c.id = m.client_id) as client_gone,
              (select c.name from clients c where c.id = m.client_id) as name,
              (select c.attributes from clients c where c.id = m.client_id) as attributes,
              (select c.operator_code from clients c where c.id = m.client_id) as operator_code,
              exists (select 1 from opt_outs o where o.phone = m.phone) as opted_out`);
  const gone = rows.filter((r) => r.client_gone).map((r) => r.id);
  if (gone.length > 0) await tx.execute(sql`delete from messages where mailing_id = ${mailingId} and id = any(${idArray(gone.map(Number))}::bigint[])`);
  return rows
    .filter((r) => !r.client_gone)
    .map((r) => ({ id: Number(r.id), clientId: Number(r.client_id), phone: r.phone, timezone: r.timezone, attempts: r.attempts, provider: r.provider, ...toRecipient(r) }));
}

/** Retries claimed and not sent (the claimer stops): due again at once, for anyone. */
export async function releaseDue(tx: Db, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.execute(sql`update messages set next_attempt_at = now() where id = any(${idArray(ids)}::bigint[]) and status = 'PENDING'`);
}

/** A message's result, as written: its row is created with it, or updated (a retry). */
export type ResultRow = {
  id: number;
  mailingId: number;
  clientId: number;
  phone: string;
  timezone: string;
  status: MessageStatus;
  /** whether a request was made (counts into attempts) */
  attempted: boolean;
  error: string | null;
  /** the text it was sent with (null when no request was made) */
  text: string | null;
  /** ms; for PENDING */
  nextAttemptAt: number | null;
  /** ms; when the answer came */
  at: number;
  /** the provider that took it or may have (null: none; a row's provider, once set, stays) */
  provider: string | null;
  /** the provider's id of it, when it gave one */
  providerMessageId: string | null;
  /** whether it had a row when it was claimed (a retry); else this is its first result */
  hadRow: boolean;
};

/** The update rule of writeResults, from the transitions table: row `m` may take result `v`'s status. */
const RESULT_MAY_APPLY = mayBecomeSql(sql`m.status`, sql`v.status`);

/**
 * Writes results in one statement. A message's first result creates its row (under the id
 * it was sent with: a member without a row is PENDING); a later one (a retry's, or a first
 * one written already: by whoever took its lease over, or by a write of this batch whose
 * commit was not answered) updates the row where the transitions table lets the row's status
 * become the result's: a message expired, cancelled or already answered meanwhile stays as it
 * is, except that SENT always wins. last_error keeps the last failure, also after a later
 * success. Returns the messages that changed, by mailing.
 *
 * Plain inserts for first results, no ON CONFLICT: a row already there for the message's
 * (mailing, client) is seen by the anti-join, and its result goes to the update. Only a
 * retry, or a first result that was not inserted, is looked up for the update: the insert
 * and the update read the same snapshot, so a row the insert creates is not also updated.
 * (An ON CONFLICT insert and a lookup of every result cost 37 ms a batch of 2,000 against 25:
 * 6 µs of PostgreSQL a message.) Two processes inserting one message at once (a lease taken
 * over from a holder that was slow, not gone) break the key: that batch fails, is tried
 * again as every failed write is, and then finds the row.
 */
export async function writeResults(tx: Db, results: readonly ResultRow[], partition?: string): Promise<Map<number, number[]>> {
  if (results.length === 0) return new Map();
  // Handed over as one array a column: a third of the bytes of JSON objects, read by
  // PostgreSQL three times as fast (db/arrays.ts). A batch's texts are mostly one text (a
  // mailing not personalised), so each distinct text goes once and a row names it by place.
  const texts: string[] = [];
  const textPlaces = new Map<string, number>();
  const textOf = results.map((r) => {
    if (r.text === null) return null;
    let place = textPlaces.get(r.text);
    if (place === undefined) textPlaces.set(r.text, (place = texts.push(r.text)));
    return place;
  });
  const column = <T>(pick: (r: ResultRow) => T) => results.map(pick);
  const hadRow = results.map((r) => (r.hadRow ? 't' : 'f'));
  // The batch's partition when it has one (PartitionLookup): looked up and updated there, the
  // statement is planned over that table alone, not over every partition of messages. A
  // condition naming the batch's mailing ids instead (pruned when planned) let the planner
  // read, on a partition not analyzed yet, all of a mailing's rows at every batch.
  const table = sql.identifier(partition ?? 'messages');
  const changed = await tx.execute<{ mailing_id: string; ids: string }>(sql`
    with v as (
      select v.id, v.mailing_id, v.client_id, v.phone, v.timezone, v.status::message_status as status, v.attempts, v.error,
             (${textArray(texts)}::text[])[v.text_at] as text, v.provider, v.provider_message_id, v.had_row,
             case when v.status = 'SENT' then to_timestamp(v.at_ms / 1000.0) end as sent_at,
             coalesce(to_timestamp(v.next_ms / 1000.0), now()) as next_attempt_at
      from unnest(${numberArray(column((r) => r.id))}::bigint[], ${numberArray(column((r) => r.mailingId))}::bigint[],
                  ${numberArray(column((r) => r.clientId))}::bigint[], ${textArray(column((r) => r.phone))}::text[],
                  ${textArray(column((r) => r.timezone))}::text[], ${textArray(column((r) => r.status))}::text[],
                  ${numberArray(column((r) => (r.attempted ? 1 : 0)))}::int[], ${textArray(column((r) => r.error))}::text[],
                  ${numberArray(textOf)}::int[], ${numberArray(column((r) => r.nextAttemptAt))}::float8[],
                  ${numberArray(column((r) => r.at))}::float8[], ${textArray(column((r) => r.provider))}::text[],
                  ${textArray(column((r) => r.providerMessageId))}::text[], ${`{${hadRow.join(',')}}`}::bool[])
        as v(id, mailing_id, client_id, phone, timezone, status, attempts, error, text_at, next_ms, at_ms, provider, provider_message_id, had_row)
    ),
    inserted as (
      insert into messages (id, mailing_id, client_id, phone, timezone, status, attempts, last_error, text, sent_at, next_attempt_at, updated_at,
                            provider, provider_message_id)
      overriding system value
      select id, mailing_id, client_id, phone, timezone, status, attempts, error, text, sent_at, next_attempt_at, now(), provider, provider_message_id
      -- A client handed out twice (a claim whose commit was lost after its requests went
      -- out, and the claim after it): its first message stands, the other's result is
      -- dropped, whether the first is a row already or in this same batch (both answered
      -- within one flush: without this the batch broke the (mailing, client) key, and was
      -- tried again, and broke it again, for good).
      from (select distinct on (mailing_id, client_id) * from v where not v.had_row order by mailing_id, client_id, id) v
      where not exists (select 1 from ${table} x where x.mailing_id = v.mailing_id and x.client_id = v.client_id)
      order by id
      returning id, mailing_id
    ),
    updated as (
      update ${table} m set
        status = v.status,
        attempts = m.attempts + v.attempts,
        last_error = coalesce(v.error, m.last_error),
        text = coalesce(v.text, m.text),
        sent_at = coalesce(v.sent_at, m.sent_at),
        provider = coalesce(m.provider, v.provider),
        provider_message_id = coalesce(v.provider_message_id, m.provider_message_id),
        next_attempt_at = v.next_attempt_at,
        updated_at = now()
      from v
      -- Joined on the whole key (id, mailing_id): each row is one index probe, into the one
      -- partition its mailing id names (pruned at run time). A condition on mailing_id alone
      -- (= any of the batch's) looked cheaper to the planner on a partition not analyzed yet,
      -- and read every row of the mailing for each batch (drizzle/0014).
      where m.mailing_id = v.mailing_id and m.id = v.id and ${RESULT_MAY_APPLY}
        and (v.had_row or v.id not in (select id from inserted))
      returning m.id, m.mailing_id
    )
    -- One row a mailing: its changed ids, not a row each for the driver to read.
    select mailing_id, string_agg(id::text, ',') as ids
    from (select id, mailing_id from inserted union all select id, mailing_id from updated) c
    group by mailing_id`);
  const byMailing = new Map<number, number[]>();
  for (const r of changed) byMailing.set(Number(r.mailing_id), r.ids.split(',').map(Number));
  return byMailing;
}

// ---- a mailing's transitions -------------------------------------------------------------

/**
 * The mailing ended (`expire`, keeping the last error, else `error`) or was cancelled
 * (`cancel`): every message of it that has a row and is still PENDING takes its final status.
 * Returns how many.
 */
export async function settleUnsent(tx: Db, mailingId: number, event: 'expire' | 'cancel', error: string | null): Promise<number> {
  const { to } = MESSAGE_TRANSITIONS[event];
  const result = await tx.execute(sql`
    update messages set status = ${to}::message_status, updated_at = now(), last_error = coalesce(last_error, ${error})
    where mailing_id = ${mailingId} and status in (${statusListSql(fromOf(event))})`);
  return result.count ?? 0;
}

/** The mailing's FAILED messages, queued once more, due at once (`requeue`). Returns how many. */
export async function requeueFailed(tx: Db, mailingId: number): Promise<number> {
  const result = await tx.execute(sql`
    update messages set status = ${MESSAGE_TRANSITIONS.requeue.to}::message_status, next_attempt_at = now(), updated_at = now()
    where mailing_id = ${mailingId} and status in (${statusListSql(fromOf('requeue'))})`);
  return result.count ?? 0;
}

/**
 * Members of a mailing that is over who never went out get their row, with the final status
 * of `event` (`expire` with `error`, or `cancel`): those never handed out, given as the
 * condition `members` on client row `c` (the audience's rule, audience.store.ts), and those
 * handed out under leases whose holder is gone (`handedOut`). A member whose phone opted out
 * since the start would have been skipped at its turn, and is SKIPPED on expiry. Returns how
 * many rows, and how many of them SKIPPED.
 */
export async function closeUnsent(
  tx: Db,
  mailingId: number,
  event: 'expire' | 'cancel',
  error: string | null,
  members: SQL | null,
  handedOut: readonly HandedOutEntry[],
): Promise<{ written: number; skipped: number }> {
  const { to } = MESSAGE_TRANSITIONS[event];
  const skipped = MESSAGE_TRANSITIONS.skip.to;
  let written = 0;
  let skippedCount = 0;
  if (members) {
    // Counted where they are written (one row back, however many members).
    const [rest] = await tx.execute<{ n: number; skipped: number }>(sql`
      with written as (
      insert into messages (mailing_id, client_id, phone, timezone, status, last_error)
      select ${mailingId}, c.id, c.phone, c.timezone, o.status::message_status, o.error
      from clients c
      cross join lateral (
        select ${event} = 'expire' and exists (select 1 from opt_outs x where x.phone = c.phone) as skipped
      ) k
      cross join lateral (
        select case when k.skipped then ${skipped} else ${to} end as status, case when k.skipped then 'opted out' else ${error} end as error
      ) o
      where ${members}
      returning status)
      select count(*)::int as n, (count(*) filter (where status = ${skipped}))::int as skipped from written`);
    written += rest.n;
    skippedCount += rest.skipped;
  }
  if (handedOut.length > 0) {
    const orphans = await tx.execute(sql`
      insert into messages (id, mailing_id, client_id, phone, timezone, status, last_error)
      overriding system value
      select e.id, ${mailingId}, e.client_id, e.phone, e.timezone, ${to}::message_status, ${error}
      from unnest(${sql.param(handedOut.map((e) => e.id))}::bigint[], ${sql.param(handedOut.map((e) => e.clientId))}::bigint[],
                  ${sql.param(handedOut.map((e) => e.phone))}::text[], ${sql.param(handedOut.map((e) => e.timezone))}::text[])
        as e(id, client_id, phone, timezone)
      on conflict do nothing`);
    written += orphans.count ?? 0;
  }
  return { written, skipped: skippedCount };
}

/** A member handed out under a lease: the message id it was given, and where it goes. */
export type HandedOutEntry = { id: number; clientId: number; phone: string; timezone: string };

/** The mailing's messages, with it (mailing.store's deleteMailing): they have no foreign key to cascade from. */
export async function deleteMessagesOf(tx: Db, mailingId: number): Promise<void> {
  await tx.delete(messages).where(eq(messages.mailingId, mailingId));
}

// ---- receipts ----------------------------------------------------------------------------

/** A provider's receipt as the store applies it: the message it names by the provider's id, and the status it gives. */
export type ReceiptWrite = { providerMessageId: string; status: 'DELIVERED' | 'UNDELIVERED'; error: string | null; at: Date | null };

/** What a receipt found: `changed` moved its message; `final` found it DELIVERED or UNDELIVERED already; `unmatched` found no SENT message. */
export type ReceiptMatch = { result: 'changed' | 'final' | 'unmatched'; messageId: number | null; mailingId: number | null };

/**
 * Applies receipts of one provider (`deliver` or `undeliver` of the transitions table) to
 * the messages it sent under those ids, in one statement: delivered_at is the receipt's time
 * or now, last_error says why for UNDELIVERED. A message already final stays as it is.
 * Returns one match per receipt, in order, and the messages that changed, by mailing.
 */
export async function applyReceipts(
  tx: Db,
  provider: string,
  receipts: readonly ReceiptWrite[],
  /** a partition to look in first (by name), the newest mailings': only what it lacks is looked for in every partition */
  first?: string,
): Promise<{ matches: ReceiptMatch[]; changed: Map<number, number[]> }> {
  if (receipts.length === 0) return { matches: [], changed: new Map() };
  // One receipt per id into the statement (two rows of v for one message would update it by either).
  const firstOf = new Map<string, number>();
  receipts.forEach((r, i) => firstOf.has(r.providerMessageId) || firstOf.set(r.providerMessageId, i));
  const rowOf = (i: number) => ({ i, pmid: receipts[i].providerMessageId, status: receipts[i].status, error: receipts[i].error, at: receipts[i].at?.toISOString() ?? null });
  // The id is not the partition key: `messages` probes the id's index in every partition
  // (a batch of 500 took 17.3 ms beside one partition, 35.7 beside 20 old ones; 15.8 newest first). Receipts come
  // for what was sent lately, so the newest partition is asked first, by name; the rest, in all.
  let found: ReceiptRow[] = [];
  let left = [...firstOf.values()];
  if (first !== undefined) {
    found = await receiptStatement(tx, provider, sql`${sql.identifier(first)}`, left.map(rowOf));
    const seen = new Set(found.map((r) => r.i));
    left = left.filter((i) => !seen.has(i));
  }
  if (left.length > 0) found = found.concat(await receiptStatement(tx, provider, sql`messages`, left.map(rowOf)));
  const byIndex = new Map(found.map((r) => [r.i, r]));
  const changed = new Map<number, number[]>();
  const matchOf = new Map<string, ReceiptMatch>();
  for (const [pmid, i] of firstOf) {
    const r = byIndex.get(i);
    if (!r) {
      matchOf.set(pmid, { result: 'unmatched', messageId: null, mailingId: null });
      continue;
    }
    const match: ReceiptMatch = { result: r.changed ? 'changed' : 'final', messageId: Number(r.id), mailingId: Number(r.mailing_id) };
    matchOf.set(pmid, match);
    if (r.changed) {
      let ids = changed.get(match.mailingId!);
      if (!ids) changed.set(match.mailingId!, (ids = []));
      ids.push(match.messageId!);
    }
  }
  // A second receipt for the same id in one batch finds what the first made of it.
  const matches = receipts.map((r, i) => {
    const m = matchOf.get(r.providerMessageId)!;
    return firstOf.get(r.providerMessageId) === i || m.result !== 'changed' ? m : { ...m, result: 'final' as const };
  });
  return { matches, changed };
}

type ReceiptRow = { i: number; id: string; mailing_id: string; changed: boolean };

/** The receipts' one statement, on `messages` or on one partition by name. */
function receiptStatement(tx: Db, provider: string, table: SQL, rows: object[]): Promise<ReceiptRow[]> {
  return tx.execute<ReceiptRow>(sql`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(i int, pmid text, status text, error text, at timestamptz)
    ),
    updated as (
      update ${table} m set
        status = v.status::message_status,
        delivered_at = coalesce(v.at, now()),
        last_error = case when v.status = ${MESSAGE_TRANSITIONS.undeliver.to} then v.error else m.last_error end,
        updated_at = now()
      from v
      where m.provider = ${provider} and m.provider_message_id = v.pmid and m.provider_message_id is not null
        and ((v.status = ${MESSAGE_TRANSITIONS.deliver.to} and m.status in (${statusListSql(fromOf('deliver'))}))
          or (v.status = ${MESSAGE_TRANSITIONS.undeliver.to} and m.status in (${statusListSql(fromOf('undeliver'))})))
      returning v.i, m.id, m.mailing_id
    )
    select i, id, mailing_id, true as changed from updated
    union all
    select v.i, m.id, m.mailing_id, false from v
    join ${table} m on m.provider = ${provider} and m.provider_message_id = v.pmid and m.provider_message_id is not null
      and m.status in (${statusListSql([MESSAGE_TRANSITIONS.deliver.to, MESSAGE_TRANSITIONS.undeliver.to])})
    where not exists (select 1 from updated u where u.i = v.i)`);
}

/** The last message id handed out (the messages id sequence's last value), 0 before the first. */
export async function lastHandedOutId(tx: Db): Promise<number> {
  const [row] = await tx.execute<{ n: string | null }>(sql`select pg_sequence_last_value(pg_get_serial_sequence('messages', 'id')::regclass) as n`);
  return Number(row?.n ?? 0);
}
