import { bigint, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The cost each principal has spent in each minute (RATE_LIMIT_COST_PER_MINUTE), shared by
 * every api process. `key` is a digest of the principal's id, never a token or a claim.
 * Windows older than two minutes are deleted now and then (cost-budget.ts).
 */
export const costWindows = pgTable(
  'cost_windows',
  {
    key: text('key').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    spent: bigint('spent', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] })],
);
