import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgEnum, pgTable, real, smallint, text, timestamp } from 'drizzle-orm/pg-core';

import { tagMatch } from '../clients/client.table';

export const MAILING_STATUSES = ['SCHEDULED', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED'] as const;

export const mailingStatus = pgEnum('mailing_status', MAILING_STATUSES);

export const mailings = pgTable(
  'mailings',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    // An operator's label for it, optional.
    name: text('name'),
    text: text('text').notNull(),
    startAt: timestamp('start_at', { withTimezone: true }).notNull(),
    endAt: timestamp('end_at', { withTimezone: true }).notNull(),
    // The filter is stored normalised (deduplicated, trimmed); empty lists match everyone.
    filterOperatorCodes: text('filter_operator_codes').array().notNull().default([]),
    filterTags: text('filter_tags').array().notNull().default([]),
    filterTagMatch: tagMatch('filter_tag_match').notNull().default('ANY'),
    status: mailingStatus('status').notNull().default('SCHEDULED'),
    // Optional daily window in each client's local time, minutes since midnight; a window
    // with from > to wraps midnight.
    sendWindowFrom: smallint('send_window_from'),
    sendWindowTo: smallint('send_window_to'),
    // Its own frequency cap (at most count messages per client in window_s), else FREQUENCY_CAP.
    frequencyCapCount: integer('frequency_cap_count'),
    frequencyCapWindowS: integer('frequency_cap_window_s'),
    // Its own threshold for pausing itself on failures, else MAX_FAILURE_RATE.
    maxFailureRate: real('max_failure_rate'),
    // Why it paused itself (null when paused by an operator, or running).
    pausedReason: text('paused_reason'),
    // Who paused it (a principal's id, or PAUSED_BY_HERALD) and when; null unless PAUSED.
    pausedBy: text('paused_by'),
    pausedAt: timestamp('paused_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    // When its messages' partition was dropped by the retention (src/partitions/): its
    // counters stay, its rows are gone. Null while they are kept.
    messagesPrunedAt: timestamp('messages_pruned_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('mailings_end_after_start', sql`${t.endAt} > ${t.startAt}`),
    check(
      'mailings_send_window',
      sql`(${t.sendWindowFrom} is null) = (${t.sendWindowTo} is null) and ${t.sendWindowFrom} between 0 and 1439 and ${t.sendWindowTo} between 0 and 1439 and ${t.sendWindowFrom} <> ${t.sendWindowTo}`,
    ),
    index('mailings_status_id_idx').on(t.status, t.id),
  ],
);

export type MailingRow = typeof mailings.$inferSelect;
export type MailingStatus = (typeof MAILING_STATUSES)[number];
