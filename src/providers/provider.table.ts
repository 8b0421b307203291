import { doublePrecision, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * A provider's send rate, shared by every worker process (providers/provider-rate.store.ts):
 * one row per provider with a limit, holding the GCRA's theoretical arrival time. Every part
 * any worker sends moves it on by 1/partsPerSecond. Unlogged (drizzle/0010): after a crash of
 * PostgreSQL it is empty, which only forgets the last second's pace.
 */
export const providerBudgets = pgTable('provider_budgets', {
  provider: text('provider').primaryKey(),
  /** ms since the epoch on the database's clock: the next part may go at this time */
  tat: doublePrecision('tat').notNull(),
});

/**
 * What each worker process sees of each provider, written by it every second or so and on
 * every change, read by every api process (the `providers` query and `providersChanged`):
 * so that any process answers what the workers see. A row not refreshed for a while belongs
 * to a process that is gone and is ignored (and swept). Unlogged (drizzle/0010), as above.
 */
export const providerStates = pgTable(
  'provider_states',
  {
    provider: text('provider').notNull(),
    /** the worker process (its dispatcher's owner id) */
    owner: text('owner').notNull(),
    /** HTTP or SMPP */
    type: text('type').notNull(),
    /** UP, DEGRADED or DOWN */
    state: text('state').notNull(),
    reason: text('reason'),
    inFlight: integer('in_flight').notNull().default(0),
    /** SMPP: sessions bound now, and held open when all are up; null for HTTP */
    bindsUp: integer('binds_up'),
    binds: integer('binds'),
    /** parts per second configured (0: no limit) */
    partsPerSecond: doublePrecision('parts_per_second').notNull().default(0),
    /** messages accepted per second, measured over the last seconds */
    sentPerSecond: doublePrecision('sent_per_second').notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.owner] })],
);
