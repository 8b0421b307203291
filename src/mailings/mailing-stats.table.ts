import { sql } from 'drizzle-orm';
import { bigint, pgTable, smallint } from 'drizzle-orm/pg-core';
import { mailings } from './mailing.table';

/**
 * Message counts by status for each mailing, kept by statement-level triggers on messages
 * (drizzle/0003_message_counters.sql), so statistics read one row per mailing instead of
 * counting millions of messages. The triggers add each statement's changes in one upsert.
 */
export const mailingStats = pgTable('mailing_stats', {
  mailingId: bigint('mailing_id', { mode: 'number' })
    .primaryKey()
    .references(() => mailings.id, { onDelete: 'cascade' }),
  pending: bigint('pending', { mode: 'number' }).notNull().default(0),
  sent: bigint('sent', { mode: 'number' }).notNull().default(0),
  failed: bigint('failed', { mode: 'number' }).notNull().default(0),
  expired: bigint('expired', { mode: 'number' }).notNull().default(0),
  cancelled: bigint('cancelled', { mode: 'number' }).notNull().default(0),
  skipped: bigint('skipped', { mode: 'number' }).notNull().default(0),
  delivered: bigint('delivered', { mode: 'number' }).notNull().default(0),
  undelivered: bigint('undelivered', { mode: 'number' }).notNull().default(0),
  // Audience members without a message row yet (not yet handed out, or in flight): pending
  // too. Set at start; each message row written takes one off (drizzle/0007).
  queued: bigint('queued', { mode: 'number' }).notNull().default(0),
  // The outcomes of the mailing's last results (1 FAILED, 0 SENT), at most 200, newest last:
  // what its automatic pause judges (dispatch/result-writer.ts).
  recent: smallint('recent').array().notNull().default(sql`'{}'::smallint[]`),
});
