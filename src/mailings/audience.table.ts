import { bigint, pgTable, timestamp } from 'drizzle-orm/pg-core';
import { mailings } from './mailing.table';

/**
 * A started mailing's audience, streamed from the clients table instead of copied into
 * messages at start: the clients who matched the filter at `started_at` with an id up to
 * `last_client_id`. Dispatchers hand them out in id order from `cursor` (every client with
 * an id up to it has been handed out); a message row is written only with its first result.
 * Clients who change or leave after the start are dealt with by triggers on clients
 * (drizzle/0007): a change first writes the client's message as it would have been, a
 * deletion takes the client out of the count. See docs/dispatch.md, "Audience, streamed".
 */
export const audiences = pgTable('audiences', {
  mailingId: bigint('mailing_id', { mode: 'number' })
    .primaryKey()
    .references(() => mailings.id, { onDelete: 'cascade' }),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
  lastClientId: bigint('last_client_id', { mode: 'number' }).notNull(),
  cursor: bigint('cursor', { mode: 'number' }).notNull().default(0),
  size: bigint('size', { mode: 'number' }).notNull(),
});

export type AudienceRow = typeof audiences.$inferSelect;
