import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgEnum, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { mailings } from '../mailings/mailing.table';

export const MESSAGE_STATUSES = ['PENDING', 'SENT', 'FAILED', 'EXPIRED', 'CANCELLED'] as const;
export const messageStatus = pgEnum('message_status', MESSAGE_STATUSES);

export const messages = pgTable(
  'messages',
  {
    // The gateway's msgId is an int64: message ids are bigint identities.
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    mailingId: bigint('mailing_id', { mode: 'number' })
      .notNull()
      .references(() => mailings.id, { onDelete: 'cascade' }),
    // No foreign key on purpose: deleting a client keeps the history of what it was sent.
    clientId: bigint('client_id', { mode: 'number' }).notNull(),
    // The number the message goes (or went) to, copied at audience time, so the history
    // stays true after the client changes or is deleted, and sending needs no join.
    phone: text('phone').notNull(),
    // The client's time zone at audience time, for the send window.
    timezone: text('timezone').notNull().default('UTC'),
    status: messageStatus('status').notNull().default('PENDING'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    // The send queue: a PENDING message is due at next_attempt_at (retries and send windows
    // move it on) and is claimed by a dispatcher until lease_until; a lease that runs out
    // (its process died) makes the message claimable again.
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
  },
  (t) => [
    // One message per client per mailing, whatever happens to either.
    unique('messages_mailing_client_key').on(t.mailingId, t.clientId),
    // Per-mailing statistics and status-filtered pages read this index only.
    index('messages_mailing_status_id_idx').on(t.mailingId, t.status, t.id),
    index('messages_client_id_idx').on(t.clientId),
    // What the dispatcher's claim walks: due pending messages, oldest due first.
    index('messages_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'PENDING'`),
  ],
);

export type MessageRow = typeof messages.$inferSelect;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
