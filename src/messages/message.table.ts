import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, unique } from 'drizzle-orm/pg-core';

// DELIVERED and UNDELIVERED are a SENT message's receipt (issue 19): they come last so that the
// enum's order (and byStatus's) keeps the older values where they were.
export const MESSAGE_STATUSES = ['PENDING', 'SENT', 'FAILED', 'EXPIRED', 'CANCELLED', 'SKIPPED', 'DELIVERED', 'UNDELIVERED'] as const;
export const messageStatus = pgEnum('message_status', MESSAGE_STATUSES);

export const messages = pgTable(
  'messages',
  {
    // The gateway's msgId is an int64: message ids are bigints from messages_id_seq. A
    // dispatcher draws the ids of what it hands out from it; each session takes 1,000 at a
    // time, so that drawing one is a counter in memory (ids have gaps, and no order across
    // processes). A sequence, not an identity: PostgreSQL before 17 has no identity column on
    // a partitioned table (drizzle/0014).
    id: bigint('id', { mode: 'number' }).notNull().default(sql`nextval('messages_id_seq')`),
    // No foreign key on purpose: checking it cost a lookup of the mailing for every message
    // of an audience (a quarter of creating one). Messages are created only by their
    // mailing's start and deleted with it, in one transaction (mailing.store deleteMailing).
    mailingId: bigint('mailing_id', { mode: 'number' }).notNull(),
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
    // The text it went out with (its mailing's, personalised for its client); null until sent.
    text: text('text'),
    // The provider that took it (or may have: an ambiguous answer pins a message to its
    // provider, which alone may try it again); null until one did. Set once, never changed.
    provider: text('provider'),
    // The provider's id of it (SMPP: submit_sm_resp's message_id), for its delivery receipt.
    providerMessageId: text('provider_message_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    // When its receipt says it reached the phone or not (the receipt's time, else when it came).
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    // The send queue: a PENDING message is due at next_attempt_at (retries and send windows
    // move it on). A dispatcher claims it with a row lock held until its result is written
    // (dispatch/dispatch.store.ts).
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // Partitioned by ranges of mailing id (drizzle/0014, src/partitions/): a key must hold the
  // partition key, so the primary key is (id, mailing_id), id first for a lookup by id alone.
  (t) => [
    primaryKey({ name: 'messages_pkey', columns: [t.id, t.mailingId] }),
    // One message per client per mailing, whatever happens to either.
    unique('messages_mailing_client_key').on(t.mailingId, t.clientId),
    // Per-mailing statistics and status-filtered pages read this index only.
    index('messages_mailing_status_id_idx').on(t.mailingId, t.status, t.id),
    // A client's unsent messages, removed when it leaves the directory; sent ones need no
    // entry (one index fewer to write per message sent).
    index('messages_pending_client_idx').on(t.clientId).where(sql`${t.status} = 'PENDING'`),
    // What a dispatcher's claim of a mailing's retries walks: its due pending messages in
    // (next_attempt_at, id) order. First attempts come from the audience and have no row
    // yet, so only retries and send-window waits are in it.
    // Receipts are matched by the provider's id of a message (SMPP's message_id); only
    // messages a provider gave an id have an entry.
    index('messages_provider_message_idx').on(t.provider, t.providerMessageId).where(sql`${t.providerMessageId} is not null`),
    index('messages_due_idx').on(t.mailingId, t.nextAttemptAt, t.id).where(sql`${t.status} = 'PENDING'`),
  ],
);

export type MessageRow = typeof messages.$inferSelect;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
