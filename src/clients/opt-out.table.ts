import { bigint, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Phones that asked to receive nothing. Kept by phone, not by client: an opt-out outlives
 * the client's deletion and holds for a client added or imported later with that phone.
 * `opted_out_at` is taken under the audience lock, so that a mailing's start knows whether
 * an opt-out came before it (the phone is not part of its audience) or after (its message
 * ends SKIPPED).
 */
export const optOuts = pgTable('opt_outs', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  phone: text('phone').notNull().unique('opt_outs_phone_key'),
  reason: text('reason'),
  optedOutAt: timestamp('opted_out_at', { withTimezone: true }).notNull(),
});

export type OptOutRow = typeof optOuts.$inferSelect;
