import { bigint, index, jsonb, pgEnum, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** How a filter's tags must match a client's: any of them, or all. */
export const TAG_MATCHES = ['ANY', 'ALL'] as const;
export type TagMatch = (typeof TAG_MATCHES)[number];
export const tagMatch = pgEnum('tag_match', TAG_MATCHES);

export const clients = pgTable(
  'clients',
  {
    // Identities stay far below 2^53, so they are safe as JS numbers.
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    phone: text('phone').notNull().unique('clients_phone_key'),
    operatorCode: text('operator_code').notNull(),
    tags: text('tags').array().notNull().default([]),
    timezone: text('timezone').notNull(),
    // For personalised texts ({{name}}, {{attributes.key}}): bounded by client.validation.ts.
    name: text('name'),
    attributes: jsonb('attributes').$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // The audience filter: `tags && $1` (ANY) and `tags @> $1` (ALL) use the GIN index;
    // `operator_code = ANY($1)` walks the btree, already in id order for keyset pages.
    index('clients_tags_gin').using('gin', t.tags),
    index('clients_operator_code_id_idx').on(t.operatorCode, t.id),
  ],
);

export type ClientRow = typeof clients.$inferSelect;
