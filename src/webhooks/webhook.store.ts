import { and, asc, desc, eq, lt, sql } from 'drizzle-orm';
import type { PageRequest } from '../common/page';
import type { Db } from '../db/connection';
import { webhookDeliveries, webhookEvents, webhooks, type WebhookRow } from './webhook.table';

/** A delivery as the API shows it: the delivery and its event (`id` is the event's, for pages). */
export type DeliveryView = {
  id: number;
  type: string;
  data: unknown;
  eventAt: Date;
  status: string;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
};

export async function insertWebhook(db: Db, values: { url: string; events: string[]; description: string | null; secret: string }): Promise<WebhookRow> {
  const [row] = await db.insert(webhooks).values(values).returning();
  return row;
}

export async function updateWebhook(
  db: Db,
  id: number,
  set: Partial<Pick<WebhookRow, 'url' | 'events' | 'description' | 'enabled' | 'disabledReason' | 'failingSince'>>,
): Promise<WebhookRow | undefined> {
  const [row] = await db
    .update(webhooks)
    .set({ ...set, updatedAt: sql`now()` })
    .where(eq(webhooks.id, id))
    .returning();
  return row;
}

export async function deleteWebhook(db: Db, id: number): Promise<boolean> {
  const gone = await db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
  return gone.length > 0;
}

export async function getWebhook(db: Db, id: number): Promise<WebhookRow | undefined> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id));
  return row;
}

export function listWebhooks(db: Db): Promise<WebhookRow[]> {
  return db.select().from(webhooks).orderBy(asc(webhooks.id));
}

export async function countDeliveries(db: Db, webhookId: number, status: 'PENDING' | 'FAILED'): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.status, status)));
  return row.n;
}

const deliveryColumns = {
  id: webhookEvents.id,
  type: webhookEvents.type,
  data: webhookEvents.data,
  eventAt: webhookEvents.createdAt,
  status: webhookDeliveries.status,
  attempts: webhookDeliveries.attempts,
  lastError: webhookDeliveries.lastError,
  nextAttemptAt: webhookDeliveries.nextAttemptAt,
  deliveredAt: webhookDeliveries.deliveredAt,
};

/** Newest first: a keyset page over event ids, descending. */
export function listDeliveries(db: Db, webhookId: number, page: PageRequest): Promise<DeliveryView[]> {
  return db
    .select(deliveryColumns)
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(and(eq(webhookDeliveries.webhookId, webhookId), page.afterId === undefined ? undefined : lt(webhookDeliveries.eventId, page.afterId)))
    .orderBy(desc(webhookDeliveries.eventId))
    .limit(page.limit + 1);
}

export async function countAllDeliveries(db: Db, webhookId: number): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, webhookId));
  return row.n;
}

/** A TEST event owed to this webhook only. */
export async function insertTestDelivery(db: Db, webhookId: number): Promise<DeliveryView> {
  return db.transaction(async (tx) => {
    const [event] = await tx.insert(webhookEvents).values({ type: 'TEST', data: { webhookId: String(webhookId) } }).returning();
    const [delivery] = await tx.insert(webhookDeliveries).values({ webhookId, eventId: event.id }).returning();
    return {
      id: event.id,
      type: event.type,
      data: event.data,
      eventAt: event.createdAt,
      status: delivery.status,
      attempts: delivery.attempts,
      lastError: delivery.lastError,
      nextAttemptAt: delivery.nextAttemptAt,
      deliveredAt: delivery.deliveredAt,
    };
  });
}

// ---- what the sender (worker processes) reads and writes ----

/** The webhooks a sender serves. */
export function enabledWebhooks(db: Db): Promise<Pick<WebhookRow, 'id' | 'url' | 'secret' | 'updatedAt'>[]> {
  return db.select({ id: webhooks.id, url: webhooks.url, secret: webhooks.secret, updatedAt: webhooks.updatedAt }).from(webhooks).where(eq(webhooks.enabled, true));
}

/**
 * Leases these deliveries to the round that claimed them: not due until `leaseMs` from now.
 * With head-of-line order, a leased delivery at the front holds back every other claim of
 * that webhook, so the lease is also what keeps a second worker from interleaving it. A
 * process killed mid-round leaves them leased: they are due, and sent again, when it ends.
 */
export async function leaseDeliveries(tx: Db, webhookId: number, eventIds: number[], leaseMs: number): Promise<void> {
  if (eventIds.length === 0) return;
  await tx.execute(sql`
    update webhook_deliveries set next_attempt_at = clock_timestamp() + ${leaseMs} * interval '1 millisecond'
    where webhook_id = ${webhookId} and status = 'PENDING' and event_id = any(${`{${eventIds.join(',')}}`}::bigint[])`);
}

/** Two-key advisory locks of this class are one webhook's claim (drizzle/0012 takes no others). */
const SENDER_LOCK_CLASS = 1_912_004;

/** This transaction is the webhook's only claim until it ends (another worker's is skipped). */
export async function lockWebhook(tx: Db, webhookId: number): Promise<boolean> {
  const rows = await tx.execute<{ locked: boolean }>(sql`select pg_try_advisory_xact_lock(${SENDER_LOCK_CLASS}, ${webhookId}::int) as locked`);
  return rows[0].locked;
}

export type Claimed = { eventId: number; type: string; data: unknown; createdAt: string; attempts: number; due: boolean; ageMs: number };

/** The webhook's oldest PENDING deliveries, in event order, with whether each is due now. */
export async function pendingDeliveries(tx: Db, webhookId: number, limit: number): Promise<Claimed[]> {
  const rows = await tx.execute<{ event_id: string; type: string; data: unknown; created_at: string; attempts: number; due: boolean; age_ms: number }>(sql`
    select d.event_id::text, e.type, e.data,
           to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
           d.attempts, d.next_attempt_at <= now() as due,
           (extract(epoch from now() - e.created_at) * 1000)::float8 as age_ms
    from webhook_deliveries d join webhook_events e on e.id = d.event_id
    where d.webhook_id = ${webhookId} and d.status = 'PENDING'
    order by d.event_id
    limit ${limit}`);
  return rows.map((r) => ({ eventId: Number(r.event_id), type: r.type, data: r.data, createdAt: r.created_at, attempts: r.attempts, due: r.due, ageMs: Number(r.age_ms) }));
}

export type Outcome = { eventId: number; status: 'PENDING' | 'DELIVERED' | 'FAILED'; error: string | null; retryInMs: number };

/**
 * The round's outcomes, in one statement: each counts one attempt. Deliveries the round
 * claimed but did not attempt (after a failure, or past its time) are due again at once.
 */
export async function recordOutcomes(tx: Db, webhookId: number, outcomes: Outcome[], unattempted: number[]): Promise<void> {
  if (unattempted.length > 0) {
    await tx.execute(sql`
      update webhook_deliveries set next_attempt_at = clock_timestamp()
      where webhook_id = ${webhookId} and status = 'PENDING' and event_id = any(${`{${unattempted.join(',')}}`}::bigint[])`);
  }
  if (outcomes.length === 0) return;
  const json = JSON.stringify(outcomes.map((o) => ({ event_id: o.eventId, status: o.status, error: o.error, retry_ms: Math.round(o.retryInMs) })));
  await tx.execute(sql`
    update webhook_deliveries d set
      status = r.status,
      attempts = d.attempts + 1,
      last_error = r.error,
      next_attempt_at = case when r.status = 'PENDING' then clock_timestamp() + r.retry_ms * interval '1 millisecond' else d.next_attempt_at end,
      delivered_at = case when r.status = 'DELIVERED' then clock_timestamp() end
    from jsonb_to_recordset(${json}::jsonb) as r(event_id bigint, status text, error text, retry_ms bigint)
    where d.webhook_id = ${webhookId} and d.event_id = r.event_id`);
}

/**
 * Keeps `failing_since` (set at the first failure of a run, cleared by a success) and
 * disables the webhook once it has failed for `failForMs`. Returns whether it was disabled.
 */
export async function recordHealth(tx: Db, webhookId: number, failed: boolean, failForMs: number, reason: string): Promise<boolean> {
  if (!failed) {
    await tx.execute(sql`update webhooks set failing_since = null where id = ${webhookId} and failing_since is not null`);
    return false;
  }
  const rows = await tx.execute<{ enabled: boolean }>(sql`
    update webhooks set
      failing_since = coalesce(failing_since, now()),
      enabled = not (coalesce(failing_since, now()) <= now() - ${failForMs} * interval '1 millisecond'),
      disabled_reason = case when coalesce(failing_since, now()) <= now() - ${failForMs} * interval '1 millisecond' then ${reason} else disabled_reason end,
      updated_at = case when coalesce(failing_since, now()) <= now() - ${failForMs} * interval '1 millisecond' then now() else updated_at end
    where id = ${webhookId}
    returning enabled`);
  return rows[0] ? !rows[0].enabled : false;
}

/**
 * Disables every enabled webhook whose deliveries have failed, with no success since, for
 * `failForMs`, also when nothing of it is due any more (its last deliveries gave up: no round
 * would look at it again). `reasonHead` starts the reason; the last error ends it. Returns
 * the ids disabled.
 */
export async function disableLongFailing(db: Db, failForMs: number, reasonHead: string): Promise<number[]> {
  const rows = await db.execute<{ id: number }>(sql`
    update webhooks w set
      enabled = false,
      disabled_reason = ${reasonHead} || ' (last: ' || coalesce((
        select d.last_error from webhook_deliveries d
        where d.webhook_id = w.id and d.last_error is not null
        order by d.event_id desc limit 1), 'unknown') || ')',
      updated_at = now()
    where w.enabled and w.failing_since <= now() - ${failForMs} * interval '1 millisecond'
    returning w.id`);
  return rows.map((r) => Number(r.id));
}

/**
 * Deletes events older than `days` none of whose deliveries is PENDING (their DELIVERED and
 * FAILED deliveries go with them), at most `limit` at a time. Returns how many went.
 */
export async function deleteOldEvents(db: Db, days: number, limit: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from webhook_events e where e.id in (
      select e2.id from webhook_events e2
      where e2.created_at < now() - ${days} * interval '1 day'
        and not exists (select 1 from webhook_deliveries d where d.event_id = e2.id and d.status = 'PENDING')
      order by e2.id limit ${limit})
    returning e.id`);
  return rows.length;
}
