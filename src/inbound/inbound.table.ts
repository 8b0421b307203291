import { bigint, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Messages phones sent to Herald (replies): an SMPP deliver_sm that is not a receipt, or a
 * provider's POST /providers/<name>/inbound. Kept as they came, with what Herald did about
 * them (`action`: an opt-out keyword opted the phone out, an opt-in keyword back in).
 */
export const inboundMessages = pgTable(
  'inbound_messages',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    provider: text('provider').notNull(),
    fromPhone: text('from_phone').notNull(),
    text: text('text').notNull(),
    // The provider's time of it when it gave one, else when it came.
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    // The client with that phone when it came (no foreign key: the history outlives the client).
    clientId: bigint('client_id', { mode: 'number' }),
    // OPTED_OUT, OPTED_IN, or null: nothing but kept.
    action: text('action'),
  },
  (t) => [index('inbound_messages_from_phone_id_idx').on(t.fromPhone, t.id)],
);

export type InboundMessageRow = typeof inboundMessages.$inferSelect;
