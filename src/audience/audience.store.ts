import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import { lockAudiences } from '../db/locks';

/**
 * A started mailing's audience: who it is for is decided at its start (the SQL function
 * herald_audience_after, drizzle/0007), and its members are handed out to dispatchers in
 * client-id order, each claim under a lease (dispatch_leases) until its messages have rows.
 * Every function here runs inside its caller's transaction.
 */

/** A member handed out to be sent, under the message id it keeps for good. */
export type HandedOut = { id: number; clientId: number; phone: string; timezone: string; leaseId: number };

/**
 * Fixes the audience of a mailing that starts now and returns its size. Under the audience
 * lock no client write is under way, so the count is of a settled directory, and every
 * client change after this transaction is seen by the triggers on clients.
 */
export async function createAudience(tx: Db, mailingId: number): Promise<number> {
  await lockAudiences(tx);
  await tx.execute(sql`
    insert into audiences (mailing_id, started_at, last_client_id, size)
    values (${mailingId}, clock_timestamp(), coalesce((select max(id) from clients), 0), 0)`);
  const [row] = await tx.execute<{ n: string }>(sql`select count(*) as n from herald_audience_after(${mailingId}, 0)`);
  const size = Number(row.n);
  await tx.execute(sql`update audiences set size = ${size} where mailing_id = ${mailingId}`);
  await tx.execute(sql`
    insert into mailing_stats (mailing_id, queued) values (${mailingId}, ${size})
    on conflict (mailing_id) do update set queued = excluded.queued`);
  return size;
}

/**
 * Locks the mailing's audience for a claim: 'held' (members left, and now this claim's to
 * hand out), 'busy' (another claim holds it) or 'done' (nobody left to hand out, or the
 * mailing has no audience: one started before audiences were streamed). A claim that goes
 * on to `handOut` must hold it first, from an earlier statement: the clients it reads must
 * be read after every client change that got in before it.
 */
export async function lockAudienceForClaim(tx: Db, mailingId: number): Promise<'held' | 'busy' | 'done'> {
  const held = await tx.execute(sql`select 1 from audiences where mailing_id = ${mailingId} and cursor < last_client_id for update skip locked`);
  if (held.length > 0) return 'held';
  const open = await tx.execute(sql`select 1 from audiences where mailing_id = ${mailingId} and cursor < last_client_id`);
  return open.length > 0 ? 'busy' : 'done';
}

/**
 * Hands out up to `limit` more members under one new lease, each with a message id drawn
 * now, and moves the cursor past them (to the end when fewer were left).
 */
export async function handOut(tx: Db, mailingId: number, limit: number, owner: string, leaseMs: number): Promise<HandedOut[]> {
  const rows = await tx.execute<{ id: string; client_id: string; phone: string; timezone: string; lease_id: string }>(sql`
    with picked as (
      select client_id, phone, timezone from herald_audience_after(${mailingId}, (select cursor from audiences where mailing_id = ${mailingId}))
      limit ${limit}
    ),
    numbered as (
      select nextval(pg_get_serial_sequence('messages', 'id')) as id, client_id, phone, timezone from picked
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
    select n.id, n.client_id, n.phone, n.timezone, l.id as lease_id from numbered n cross join lease l order by n.client_id`);
  return rows.map((r) => ({ id: Number(r.id), clientId: Number(r.client_id), phone: r.phone, timezone: r.timezone, leaseId: Number(r.lease_id) }));
}

/**
 * Takes over one lease of the mailing whose holder is gone (its time is up: the process died
 * or hung) and returns what of it has no message row yet, to be sent again under the same
 * ids: the gateway can tell a repeat by its msgId. A lease with nothing left is dropped.
 */
export async function takeOverLease(tx: Db, mailingId: number, owner: string, leaseMs: number): Promise<HandedOut[]> {
  const [lease] = await tx.execute<{ id: string }>(sql`
    update dispatch_leases set owner = ${owner}, until = now() + ${leaseMs} * interval '1 millisecond'
    where id = (select id from dispatch_leases where mailing_id = ${mailingId} and until < now() order by id limit 1 for update skip locked)
    returning id`);
  if (!lease) return [];
  const rows = await tx.execute<{ id: string; client_id: string; phone: string; timezone: string }>(sql`
    select e.id, e.client_id, e.phone, e.timezone
    from dispatch_leases l, unnest(l.message_ids, l.client_ids, l.phones, l.timezones) as e(id, client_id, phone, timezone)
    where l.id = ${lease.id} and not exists (select 1 from messages m where m.id = e.id)`);
  if (rows.length === 0) await tx.execute(sql`delete from dispatch_leases where id = ${lease.id}`);
  const leaseId = Number(lease.id);
  return rows.map((r) => ({ id: Number(r.id), clientId: Number(r.client_id), phone: r.phone, timezone: r.timezone, leaseId }));
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
 * decides. Needs the mailing's exclusive lock (no claim under way). Returns how many.
 */
export async function closeAudience(tx: Db, mailingId: number, status: 'EXPIRED' | 'CANCELLED', error: string | null): Promise<number> {
  const audience = await tx.execute<{ cursor: string }>(sql`select cursor from audiences where mailing_id = ${mailingId} for update`);
  let written = 0;
  if (audience.length > 0) {
    const rest = await tx.execute(sql`
      insert into messages (mailing_id, client_id, phone, timezone, status, last_error)
      select ${mailingId}, client_id, phone, timezone, ${status}::message_status, ${error}
      from herald_audience_after(${mailingId}, ${audience[0].cursor}::bigint)`);
    written += rest.count ?? 0;
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
  return written;
}

/** Mailings with leases whose holder is gone although the mailing is over (swept). */
export async function finishedMailingsWithOrphanLeases(db: Db): Promise<number[]> {
  const rows = await db.execute<{ mailing_id: string }>(sql`
    select distinct l.mailing_id from dispatch_leases l join mailings g on g.id = l.mailing_id
    where l.until < now() and g.status in ('COMPLETED', 'CANCELLED')`);
  return rows.map((r) => Number(r.mailing_id));
}
