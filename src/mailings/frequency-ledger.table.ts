import { bigint, index, pgTable, timestamp } from 'drizzle-orm/pg-core';

/**
 * The messages sent (or on their way) to each client under a frequency cap: a claim counts
 * a client's entries within the cap's window, under a lock on that client, and writes one for
 * each message it sends; a message that does not end SENT gives its entry back. Kept only
 * while a cap applies (FREQUENCY_CAP, or a mailing's own), and pruned past the longest window.
 */
export const frequencyLedger = pgTable(
  'frequency_ledger',
  {
    messageId: bigint('message_id', { mode: 'number' }).primaryKey(),
    clientId: bigint('client_id', { mode: 'number' }).notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('frequency_ledger_client_at_idx').on(t.clientId, t.at)],
);
