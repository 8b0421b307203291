import { bigint, index, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';

/**
 * Receipts that came before the message they belong to could be matched: the provider is
 * fast and the group commit of results is not (dispatch/result-writer.ts), so a receipt may
 * arrive for an id Herald handed out but has not recorded yet. It is kept here and applied
 * once the message is SENT; never lost, never applied twice (one row per provider and id).
 */
export const parkedReceipts = pgTable(
  'parked_receipts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    provider: text('provider').notNull(),
    // The id the receipt names: SMPP's message_id, or (HTTP) the id Herald sent the message under.
    providerMessageId: text('provider_message_id').notNull(),
    // DELIVERED or UNDELIVERED: the status the receipt gives the message.
    status: text('status').notNull(),
    // For UNDELIVERED: why, as the provider said it ("UNDELIV err:034", "expired").
    error: text('error'),
    // The receipt's own time (its "done date", its `at`), else when it came.
    at: timestamp('at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('parked_receipts_provider_id_key').on(t.provider, t.providerMessageId), index('parked_receipts_received_at_idx').on(t.receivedAt)],
);

export type ParkedReceiptRow = typeof parkedReceipts.$inferSelect;
