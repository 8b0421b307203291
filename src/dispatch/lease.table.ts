import { bigint, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Messages handed to a dispatcher before they have a row: one lease per claim from an
 * audience, with what sending them needs. It is deleted once every one of its messages has
 * a row (a result). A lease whose `until` has passed belongs to a process that died or hung:
 * another takes it over and sends what has no row yet, under the same message ids, so the
 * gateway can tell a repeat. Retries already have rows and need no lease here.
 */
export const dispatchLeases = pgTable(
  'dispatch_leases',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    mailingId: bigint('mailing_id', { mode: 'number' }).notNull(),
    owner: text('owner').notNull(),
    until: timestamp('until', { withTimezone: true }).notNull(),
    messageIds: bigint('message_ids', { mode: 'number' }).array().notNull(),
    clientIds: bigint('client_ids', { mode: 'number' }).array().notNull(),
    phones: text('phones').array().notNull(),
    timezones: text('timezones').array().notNull(),
  },
  (t) => [index('dispatch_leases_mailing_until_idx').on(t.mailingId, t.until)],
);
