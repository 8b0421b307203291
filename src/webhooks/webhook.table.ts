import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** Other systems' endpoints that receive Herald's events (Standard Webhooks, signed with `secret`). */
export const webhooks = pgTable('webhooks', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  url: text('url').notNull(),
  // WebhookEvent names: MESSAGE_STATUS, MAILING_STATUS, INBOUND, OPT_OUT.
  events: text('events').array().notNull(),
  description: text('description'),
  // The signing key as handed out once (`whsec_<base64>`); needed in full to sign, so kept.
  secret: text('secret').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  // Why Herald disabled it (failing for 24 h), and since when its deliveries fail.
  disabledReason: text('disabled_reason'),
  failingSince: timestamp('failing_since', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The durable outbox: one row per event, written in the transaction of the change it tells
 * of, so an event exists exactly when its change committed. `data` is the payload's `data`.
 */
export const webhookEvents = pgTable('webhook_events', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  type: text('type').notNull(),
  data: jsonb('data').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One event owed to one webhook, with its attempts: PENDING until DELIVERED or FAILED (given up). */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    webhookId: bigint('webhook_id', { mode: 'number' })
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    eventId: bigint('event_id', { mode: 'number' })
      .notNull()
      .references(() => webhookEvents.id, { onDelete: 'cascade' }),
    status: text('status').notNull().default('PENDING'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.webhookId, t.eventId] }),
    // What a sender claims: a webhook's owed events, in the order they happened.
    index('webhook_deliveries_pending_idx').on(t.webhookId, t.eventId).where(sql`${t.status} = 'PENDING'`),
    index('webhook_deliveries_event_idx').on(t.eventId),
  ],
);

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookEventRow = typeof webhookEvents.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
