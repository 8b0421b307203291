import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import { lockClients } from '../db/locks';

/**
 * Messages about to go to clients under a frequency cap of `count` per `windowS`: each
 * client's messages in the window are counted (its own earlier attempt aside: a retry keeps
 * the place it took) under a lock on that client, so that claims of any process and any
 * mailing count one after another, and a place is taken for each message still under the
 * cap. Returns the messages that may go.
 */
export async function reserveUnderCap(tx: Db, messages: readonly { id: number; clientId: number }[], count: number, windowS: number): Promise<Set<number>> {
  if (messages.length === 0) return new Set();
  await lockClients(tx, messages.map((m) => m.clientId));
  const rows = await tx.execute<{ message_id: string }>(sql`
    with w as (
      select * from jsonb_to_recordset(${JSON.stringify(messages.map((m) => ({ message_id: m.id, client_id: m.clientId })))}::jsonb)
        as w(message_id bigint, client_id bigint)
    ),
    used as (
      select l.client_id, count(*) as n from frequency_ledger l
      where l.client_id in (select client_id from w) and l.at > now() - ${windowS} * interval '1 second'
        and l.message_id not in (select message_id from w)
      group by l.client_id
    ),
    allowed as (
      select w.message_id, w.client_id from w left join used u using (client_id) where coalesce(u.n, 0) < ${count}
    ),
    taken as (
      insert into frequency_ledger (message_id, client_id) select message_id, client_id from allowed
      on conflict (message_id) do nothing
    )
    select message_id from allowed`);
  return new Set(rows.map((r) => Number(r.message_id)));
}

/** Messages that will not be sent after all give back the place they took under a cap. */
export async function releaseCapPlaces(tx: Db, messageIds: readonly number[]): Promise<void> {
  if (messageIds.length === 0) return;
  await tx.execute(sql`delete from frequency_ledger where message_id = any(${`{${messageIds.join(',')}}`}::bigint[])`);
}

/** A mailing that ends or is cancelled gives back the places of what it did not send. */
export async function releaseUnsentCapPlaces(tx: Db, mailingId: number): Promise<void> {
  await tx.execute(sql`
    delete from frequency_ledger l using messages m
    where m.id = l.message_id and m.mailing_id = ${mailingId} and m.status <> 'SENT'`);
}

/** Places older than any window there can be (a year) count for nothing: pruned by the sweep. */
export async function pruneCapPlaces(db: Db): Promise<void> {
  await db.execute(sql`delete from frequency_ledger where at < now() - interval '367 days'`);
}
