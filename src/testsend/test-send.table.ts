import { bigint, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { messageStatus } from '../messages/message.table';

/** One message sent now to one phone to try a text, apart from any mailing. */
export const testSends = pgTable('test_sends', {
  // Drawn from the messages' sequence: the gateway knows messages by id (msgId).
  id: bigint('id', { mode: 'number' }).primaryKey(),
  phone: text('phone').notNull(),
  text: text('text').notNull(),
  status: messageStatus('status').notNull(),
  error: text('error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export type TestSendRow = typeof testSends.$inferSelect;
