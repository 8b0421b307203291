import { and, count, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import type { PageRequest } from '../graphql/connection';
import { holdUnsentMessages } from '../messages/message.store';
import { mailingStats, messages } from '../messages/message.table';
import { mailings, type MailingRow, type MailingStatus } from './mailing.table';

export type MailingValues = Pick<
  MailingRow,
  'text' | 'startAt' | 'endAt' | 'filterOperatorCodes' | 'filterTags' | 'filterTagMatch' | 'sendWindowFrom' | 'sendWindowTo'
>;

export async function insertMailing(db: Db, values: MailingValues): Promise<MailingRow> {
  const [row] = await db.insert(mailings).values(values).returning();
  return row;
}

export async function findMailing(db: Db, id: number): Promise<MailingRow | undefined> {
  const [row] = await db.select().from(mailings).where(eq(mailings.id, id));
  return row;
}

/** The mailing and its counter row in one query, so that `mailing { stats }` is one round trip. */
export async function findMailingWithCounts(db: Db, id: number) {
  const [row] = await db
    .select({ mailing: mailings, counts: mailingStats })
    .from(mailings)
    .leftJoin(mailingStats, eq(mailingStats.mailingId, mailings.id))
    .where(eq(mailings.id, id));
  return row;
}

/** Locks the row for the rest of the transaction: status checks and the write see one state. */
export async function findMailingForUpdate(db: Db, id: number): Promise<MailingRow | undefined> {
  const [row] = await db.select().from(mailings).where(eq(mailings.id, id)).for('update');
  return row;
}

export async function updateMailing(db: Db, id: number, patch: Partial<MailingValues>): Promise<MailingRow> {
  const [row] = await db
    .update(mailings)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(eq(mailings.id, id))
    .returning();
  return row;
}

/** Deletes the mailing, its messages and (by cascade) its counter row. */
export async function deleteMailing(db: Db, id: number): Promise<boolean> {
  // Its messages first, by hand: they have no foreign key to cascade from (see
  // messages.mailing_id). Deleting them waits for the batches in flight, which hold their
  // rows; only then the mailing, whose counter row those batches update.
  await holdUnsentMessages(db, id);
  await db.delete(messages).where(eq(messages.mailingId, id));
  const deleted = await db.delete(mailings).where(eq(mailings.id, id)).returning({ id: mailings.id });
  return deleted.length > 0;
}

/** Newest first: a keyset page walks ids downwards. */
export function listMailings(db: Db, status: MailingStatus | null, page: PageRequest): Promise<MailingRow[]> {
  return db
    .select()
    .from(mailings)
    .where(and(status ? eq(mailings.status, status) : undefined, page.afterId === undefined ? undefined : lt(mailings.id, page.afterId)))
    .orderBy(desc(mailings.id))
    .limit(page.limit + 1);
}

export async function countMailings(db: Db, status: MailingStatus | null): Promise<number> {
  const [row] = await db.select({ n: count() }).from(mailings).where(status ? eq(mailings.status, status) : undefined);
  return row.n;
}
