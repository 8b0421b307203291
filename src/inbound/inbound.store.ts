import { and, count, desc, eq, like, lt } from 'drizzle-orm';
import type { PageRequest } from '../common/page';
import type { Db } from '../db/connection';
import { inboundMessages, type InboundMessageRow } from './inbound.table';

export type InboundValues = Pick<InboundMessageRow, 'provider' | 'fromPhone' | 'text' | 'clientId' | 'action'> & { receivedAt: Date | null };

export async function insertInbound(db: Db, values: InboundValues): Promise<InboundMessageRow> {
  const { receivedAt, ...rest } = values;
  // Without the provider's time, the column's default: when it came.
  const [row] = await db.insert(inboundMessages).values({ ...rest, ...(receivedAt ? { receivedAt } : {}) }).returning();
  return row;
}

export async function findInbound(db: Db, id: number): Promise<InboundMessageRow | undefined> {
  const [row] = await db.select().from(inboundMessages).where(eq(inboundMessages.id, id));
  return row;
}

/** Digits only (validated), so a LIKE pattern needs no escaping. */
const phoneCondition = (phoneContains: string | null) => (phoneContains ? like(inboundMessages.fromPhone, `%${phoneContains}%`) : undefined);

/** One keyset page, newest first (ids descend as they were kept). */
export function listInbound(db: Db, phoneContains: string | null, page: PageRequest): Promise<InboundMessageRow[]> {
  return db
    .select()
    .from(inboundMessages)
    .where(and(phoneCondition(phoneContains), page.afterId === undefined ? undefined : lt(inboundMessages.id, page.afterId)))
    .orderBy(desc(inboundMessages.id))
    .limit(page.limit + 1);
}

export async function countInbound(db: Db, phoneContains: string | null): Promise<number> {
  const [row] = await db.select({ n: count() }).from(inboundMessages).where(phoneCondition(phoneContains));
  return row.n;
}
