import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import type { ReceiptWrite } from '../messages/message.store';

/**
 * The SQL of parked_receipts: receipts kept until their message is recorded as SENT. Every
 * function runs in its caller's transaction.
 */

/** Keeps receipts of `provider`; a second receipt for an id already parked changes nothing (the first stands, as on a message). */
export async function parkReceipts(tx: Db, provider: string, receipts: readonly ReceiptWrite[]): Promise<void> {
  if (receipts.length === 0) return;
  const rows = JSON.stringify(receipts.map((r) => ({ pmid: r.providerMessageId, status: r.status, error: r.error, at: r.at?.toISOString() ?? null })));
  await tx.execute(sql`
    insert into parked_receipts (provider, provider_message_id, status, error, at)
    select ${provider}, v.pmid, v.status, v.error, coalesce(v.at, now())
    from jsonb_to_recordset(${rows}::jsonb) as v(pmid text, status text, error text, at timestamptz)
    on conflict (provider, provider_message_id) do nothing`);
}

/** Whether any receipt is parked (the sweep's cheap look when there is nothing to do). */
export async function anyParked(db: Db): Promise<boolean> {
  const [row] = await db.execute<{ any: boolean }>(sql`select exists (select 1 from parked_receipts) as any`);
  return row.any;
}

export type ParkedReceipt = ReceiptWrite & { provider: string };

/**
 * Takes (deletes and returns) up to `limit` parked receipts whose message now has their id,
 * locked so that two sweeps never take the same one.
 */
export async function takeMatchedParked(tx: Db, limit: number): Promise<ParkedReceipt[]> {
  const rows = await tx.execute<{ provider: string; provider_message_id: string; status: 'DELIVERED' | 'UNDELIVERED'; error: string | null; at: Date | string }>(sql`
    delete from parked_receipts p
    where p.id in (
      select p.id from parked_receipts p
      where exists (select 1 from messages m where m.provider = p.provider and m.provider_message_id = p.provider_message_id and m.provider_message_id is not null)
      order by p.id limit ${limit}
      for update of p skip locked)
    returning p.provider, p.provider_message_id, p.status, p.error, p.at`);
  return rows.map((r) => ({ provider: r.provider, providerMessageId: r.provider_message_id, status: r.status, error: r.error, at: new Date(r.at) }));
}

/** Drops parked receipts older than `parkMs` (no message took their id): returns them. */
export async function dropExpiredParked(tx: Db, parkMs: number): Promise<{ provider: string; providerMessageId: string }[]> {
  const rows = await tx.execute<{ provider: string; provider_message_id: string }>(sql`
    delete from parked_receipts where received_at < now() - ${parkMs} * interval '1 millisecond'
    returning provider, provider_message_id`);
  return rows.map((r) => ({ provider: r.provider, providerMessageId: r.provider_message_id }));
}
