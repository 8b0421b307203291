import { sql, type SQL } from 'drizzle-orm';
import type { TagMatch } from '../clients/client.filter';
import type { Db } from '../db/connection';
import { lockAudiences } from '../db/locks';
import { FINAL_STATUSES } from './mailing.transitions';

/**
 * A started mailing's audience: who it is for is decided at its start, and its members are
 * handed out to dispatchers in client-id order, each claim under a lease (dispatch_leases)
 * until its messages have rows. Every function here runs inside its caller's transaction.
 */

/** What a message's text and fate need of its client now: its name and attributes, and whether its phone opted out. */
export type Recipient = { name: string | null; attributes: Record<string, string>; optedOut: boolean };

/** A member handed out to be sent, under the message id it keeps for good. */
export type HandedOut = Recipient & { id: number; clientId: number; phone: string; timezone: string; leaseId: number };

type RecipientRow = { name: string | null; attributes: Record<string, string> | null; opted_out: boolean };
const toRecipient = (r: RecipientRow): Recipient => ({ name: r.name, attributes: r.attributes ?? {}, optedOut: r.opted_out });

/** The SQL that reads a Recipient for client row `c` (which may be missing: the client left). */
export const RECIPIENT_COLUMNS = sql`c.name, c.attributes, exists (select 1 from opt_outs o where o.phone = c.phone) as opted_out`;

/** What decides the audience of a started mailing, read under its audience's lock. */
export type Audience = {
  mailingId: number;
  /** clients with an id up to this have been handed out (or written) */
  cursor: number;
  lastClientId: number;
  /** the start instant, as PostgreSQL printed it (a JS Date would drop the microseconds) */
  startedAt: string;
  filter: { operatorCodes: string[]; tags: string[]; tagMatch: TagMatch };
};

/**
 * The one definition of "a member still to be handed out, after client `after`": a client
 * who matched the filter at the start (an id up to the highest one then, unchanged since; a
 * client changed or deleted after the start is taken care of by the triggers on clients,
 * drizzle/0007, which spell the same rule). The filter goes in as parameters, so that the
 * planner folds away what an empty filter does not need.
 */
function members(a: Audience, after: number): SQL {
  return sql`c.id > ${after} and c.id <= ${a.lastClientId} and c.updated_at <= ${a.startedAt}::timestamptz and ${matching(a.filter)}
    and not exists (select 1 from opt_outs o where o.phone = c.phone and o.opted_out_at <= ${a.startedAt}::timestamptz)`;
}

/** Client row `c` matches the filter. */
function matching(filter: Audience['filter']): SQL {
  return sql`herald_in_audience(c.operator_code, c.tags, ${sql.param(filter.operatorCodes)}::text[], ${sql.param(filter.tags)}::text[], ${filter.tagMatch}::tag_match)`;
}

/** How many clients a filter matches now, opted-out phones left out: the audience a start would fix. */
export async function countMatching(db: Db, filter: Audience['filter']): Promise<number> {
  const [row] = await db.execute<{ n: string }>(sql`
    select count(*) as n from clients c where ${matching(filter)} and not exists (select 1 from opt_outs o where o.phone = c.phone)`);
  return Number(row.n);
}

type AudienceRow = { cursor: string; last_client_id: string; started_at: string; codes: string[]; tags: string[]; tag_match: TagMatch };

const toAudience = (mailingId: number, r: AudienceRow): Audience => ({
  mailingId,
  cursor: Number(r.cursor),
  lastClientId: Number(r.last_client_id),
  startedAt: r.started_at,
  filter: { operatorCodes: r.codes, tags: r.tags, tagMatch: r.tag_match },
});

const AUDIENCE_COLUMNS = sql`a.cursor, a.last_client_id, a.started_at::text as started_at,
  g.filter_operator_codes as codes, g.filter_tags as tags, g.filter_tag_match as tag_match`;

/**
 * Fixes the audience of a mailing that starts now and returns its size. Under the audience
 * lock no client write is under way, so every client there is was written before this
 * instant (its updated_at is earlier), none is being inserted with an id below the highest
 * one seen, and every change after this transaction is seen by the triggers on clients.
 */
export async function createAudience(tx: Db, mailingId: number): Promise<number> {
  // Counting the audience of a mailing to millions of clients may outlast DB_STATEMENT_TIMEOUT_MS,
  // which is there to stop a hung request, not a start.
  await tx.execute(sql`set local statement_timeout = 0`);
  await lockAudiences(tx);
  const [row] = await tx.execute<AudienceRow>(sql`
    with a as (
      insert into audiences (mailing_id, started_at, last_client_id, size)
      values (${mailingId}, clock_timestamp(), coalesce((select max(id) from clients), 0), 0)
      returning *
    )
    select ${AUDIENCE_COLUMNS} from a join mailings g on g.id = a.mailing_id`);
  const audience = toAudience(mailingId, row);
  const [count] = await tx.execute<{ n: string }>(sql`select count(*) as n from clients c where ${members(audience, 0)}`);
  const size = Number(count.n);
  await tx.execute(sql`update audiences set size = ${size} where mailing_id = ${mailingId}`);
  await tx.execute(sql`
    insert into mailing_stats (mailing_id, queued) values (${mailingId}, ${size})
    on conflict (mailing_id) do update set queued = excluded.queued`);
  return size;
}

/**
 * Locks the mailing's audience for a claim: held (members are left, and now this claim's to
 * hand out), busy (another claim holds it), or neither (nobody left to hand out, or the
 * mailing has none: one started before audiences were streamed). A claim that goes on to
 * `handOut` must hold it first, from an earlier statement: the clients it reads must be read
 * after every client change that got in before it.
 */
export async function lockAudienceForClaim(tx: Db, mailingId: number): Promise<{ held: Audience } | { held: null; busy: boolean }> {
  const [row] = await tx.execute<AudienceRow>(sql`
    select ${AUDIENCE_COLUMNS} from audiences a join mailings g on g.id = a.mailing_id
    where a.mailing_id = ${mailingId} and a.cursor < a.last_client_id
    for update of a skip locked`);
  if (row) return { held: toAudience(mailingId, row) };
  const open = await tx.execute(sql`select 1 from audiences where mailing_id = ${mailingId} and cursor < last_client_id`);
  return { held: null, busy: open.length > 0 };
}

/**
 * Hands out up to `limit` members after the cursor under one new lease, each with a message
 * id drawn now, and moves the cursor past them (to the end when fewer were left). Walks the
 * clients by primary key from the cursor and stops at the limit.
 */
export async function handOut(tx: Db, audience: Audience, limit: number, owner: string, leaseMs: number): Promise<HandedOut[]> {
  const mailingId = audience.mailingId;
  const rows = await tx.execute<RecipientRow & { id: string; client_id: string; phone: string; timezone: string; lease_id: string }>(sql`
    with picked as (
      select c.id as client_id, c.phone, c.timezone, ${RECIPIENT_COLUMNS} from clients c
      where ${members(audience, audience.cursor)}
      order by c.id limit ${limit}
    ),
    numbered as (
      select nextval('messages_id_seq'::regclass) as id, client_id, phone, timezone, name, attributes, opted_out from picked
    ),
    lease as (
      insert into dispatch_leases (mailing_id, owner, until, message_ids, client_ids, phones, timezones)
      select ${mailingId}, ${owner}, now() + ${leaseMs} * interval '1 millisecond',
             array_agg(id order by client_id), array_agg(client_id order by client_id),
             array_agg(phone order by client_id), array_agg(timezone order by client_id)
      from numbered having count(*) > 0
      returning id
    ),
    moved as (
      update audiences
      set cursor = case when (select count(*) from picked) = ${limit} then (select max(client_id) from picked) else last_client_id end
      where mailing_id = ${mailingId}
    )
    select n.id, n.client_id, n.phone, n.timezone, n.name, n.attributes, n.opted_out, l.id as lease_id
    from numbered n cross join lease l order by n.client_id`);
  return rows.map((r) => ({ id: Number(r.id), clientId: Number(r.client_id), phone: r.phone, timezone: r.timezone, leaseId: Number(r.lease_id), ...toRecipient(r) }));
}

/**
 * Takes over one lease of the mailing whose holder is gone (its time is up: the process died
 * or hung) and returns what of it has no message row yet, at most `limit`, to be sent again
 * under the same ids: the gateway can tell a repeat by its msgId. What is over the limit is
 * split off into a lease of its own, free to be taken over at once; a lease with nothing
 * left is dropped.
 */
export async function takeOverLease(tx: Db, mailingId: number, owner: string, leaseMs: number, limit: number): Promise<HandedOut[]> {
  const [lease] = await tx.execute<{ id: string }>(sql`
    update dispatch_leases set owner = ${owner}, until = now() + ${leaseMs} * interval '1 millisecond'
    where id = (select id from dispatch_leases where mailing_id = ${mailingId} and until < now() order by id limit 1 for update skip locked)
    returning id`);
  if (!lease) return [];
  type Entry = RecipientRow & { id: string; client_id: string; phone: string; timezone: string };
  const rows: Entry[] = await tx.execute<Entry>(sql`
    select e.id, e.client_id, e.phone, e.timezone, ${RECIPIENT_COLUMNS}
    from dispatch_leases l
    cross join unnest(l.message_ids, l.client_ids, l.phones, l.timezones) as e(id, client_id, phone, timezone)
    left join clients c on c.id = e.client_id
    where l.id = ${lease.id} and not exists (select 1 from messages m where m.id = e.id)
    order by e.client_id`);
  if (rows.length === 0) {
    await tx.execute(sql`delete from dispatch_leases where id = ${lease.id}`);
    return [];
  }
  const [mine, rest] = [rows.slice(0, limit), rows.slice(limit)];
  const arrays = (part: Entry[]) =>
    sql`${sql.param(part.map((r) => r.id))}::bigint[], ${sql.param(part.map((r) => r.client_id))}::bigint[],
        ${sql.param(part.map((r) => r.phone))}::text[], ${sql.param(part.map((r) => r.timezone))}::text[]`;
  await tx.execute(sql`
    update dispatch_leases set (message_ids, client_ids, phones, timezones) = (select ${arrays(mine)}) where id = ${lease.id}`);
  if (rest.length > 0) {
    await tx.execute(sql`
      insert into dispatch_leases (mailing_id, owner, until, message_ids, client_ids, phones, timezones)
      values (${mailingId}, ${owner}, now() - interval '1 millisecond', ${arrays(rest)})`);
  }
  const leaseId = Number(lease.id);
  return mine.map((r) => ({ id: Number(r.id), clientId: Number(r.client_id), phone: r.phone, timezone: r.timezone, leaseId, ...toRecipient(r) }));
}

/** Drops leases whose every message now has a row (written by their holder). */
export async function releaseLeases(tx: Db, leaseIds: readonly number[], owner: string): Promise<void> {
  if (leaseIds.length === 0) return;
  await tx.execute(sql`delete from dispatch_leases where id = any(${`{${leaseIds.join(',')}}`}::bigint[]) and owner = ${owner}`);
}

/** Gives this process's leases back at once (a clean stop): another process may go on with them. */
export async function expireLeasesOf(tx: Db, owner: string): Promise<void> {
  await tx.execute(sql`update dispatch_leases set until = now() where owner = ${owner}`);
}

/**
 * The mailing is over (expired at its end, or cancelled): every member still without a row
 * gets one with `status` — those never handed out, and those of leases whose holder is gone.
 * Leases still held are left to their holders, whose results the mailing's new status then
 * decides. Needs the mailing's exclusive lock (no claim under way). Returns how many, and how
 * many of them were SKIPPED instead (opted out since the start).
 */
export async function closeAudience(tx: Db, mailingId: number, status: 'EXPIRED' | 'CANCELLED', error: string | null): Promise<{ written: number; skipped: number }> {
  const [row] = await tx.execute<AudienceRow>(sql`
    select ${AUDIENCE_COLUMNS} from audiences a join mailings g on g.id = a.mailing_id where a.mailing_id = ${mailingId} for update of a`);
  let written = 0;
  let skipped = 0;
  if (row) {
    const audience = toAudience(mailingId, row);
    // Counted where they are written (one row back, however many members).
    const [rest] = await tx.execute<{ n: number; skipped: number }>(sql`
      with written as (
      insert into messages (mailing_id, client_id, phone, timezone, status, last_error)
      select ${mailingId}, c.id, c.phone, c.timezone, o.status::message_status, o.error
      from clients c
      -- a member whose phone opted out since the start would have been skipped at its turn
      cross join lateral (
        select ${status} = 'EXPIRED' and exists (select 1 from opt_outs x where x.phone = c.phone) as skipped
      ) k
      cross join lateral (
        select case when k.skipped then 'SKIPPED' else ${status} end as status, case when k.skipped then 'opted out' else ${error} end as error
      ) o
      where ${members(audience, audience.cursor)}
      returning status)
      select count(*)::int as n, (count(*) filter (where status = 'SKIPPED'))::int as skipped from written`);
    written += rest.n;
    skipped += rest.skipped;
    await tx.execute(sql`update audiences set cursor = last_client_id where mailing_id = ${mailingId}`);
  }
  const orphans = await tx.execute(sql`
    with gone as (
      delete from dispatch_leases where mailing_id = ${mailingId} and until < now()
      returning message_ids, client_ids, phones, timezones
    )
    insert into messages (id, mailing_id, client_id, phone, timezone, status, last_error)
    overriding system value
    select e.id, ${mailingId}, e.client_id, e.phone, e.timezone, ${status}::message_status, ${error}
    from gone, unnest(gone.message_ids, gone.client_ids, gone.phones, gone.timezones) as e(id, client_id, phone, timezone)
    on conflict do nothing`);
  written += orphans.count ?? 0;
  return { written, skipped };
}

/** Mailings with leases whose holder is gone although the mailing is over (swept). */
export async function finishedMailingsWithOrphanLeases(db: Db): Promise<number[]> {
  const rows = await db.execute<{ mailing_id: string }>(sql`
    select distinct l.mailing_id from dispatch_leases l join mailings g on g.id = l.mailing_id
    where l.until < now() and g.status = any(${sql.param(FINAL_STATUSES)}::mailing_status[])`);
  return rows.map((r) => Number(r.mailing_id));
}
