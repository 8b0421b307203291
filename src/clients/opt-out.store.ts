import { and, asc, count, eq, gt, inArray, like, sql } from 'drizzle-orm';
import type { PageRequest } from '../common/page';
import type { Db } from '../db/connection';
import { optOuts, type OptOutRow } from './opt-out.table';

/** Records the opt-out (a new reason for a phone already out keeps when it opted out). */
export async function upsertOptOut(db: Db, phone: string, reason: string | null): Promise<void> {
  // opted_out_at is the trigger's (drizzle/0008): taken under the audience lock.
  await db
    .insert(optOuts)
    .values({ phone, reason, optedOutAt: sql`clock_timestamp()` })
    .onConflictDoUpdate({ target: optOuts.phone, set: { reason } });
}

/** Lifts the opt-out; false when the phone had none. */
export async function deleteOptOut(db: Db, phone: string): Promise<boolean> {
  const deleted = await db.delete(optOuts).where(eq(optOuts.phone, phone)).returning({ id: optOuts.id });
  return deleted.length > 0;
}

/** Which of these phones opted out. */
export async function optedOutAmong(db: Db, phones: readonly string[]): Promise<Set<string>> {
  if (phones.length === 0) return new Set();
  const rows = await db.select({ phone: optOuts.phone }).from(optOuts).where(inArray(optOuts.phone, [...phones]));
  return new Set(rows.map((r) => r.phone));
}

export async function isOptedOut(db: Db, phone: string): Promise<boolean> {
  const [row] = await db.select({ id: optOuts.id }).from(optOuts).where(eq(optOuts.phone, phone));
  return row !== undefined;
}

/** One keyset page in id order (the order phones opted out in). */
/** Digits only (validated), so a LIKE pattern needs no escaping. */
const phoneCondition = (phoneContains: string | null) => (phoneContains ? like(optOuts.phone, `%${phoneContains}%`) : undefined);

export function listOptOuts(db: Db, phoneContains: string | null, page: PageRequest): Promise<OptOutRow[]> {
  return db
    .select()
    .from(optOuts)
    .where(and(phoneCondition(phoneContains), page.afterId === undefined ? undefined : gt(optOuts.id, page.afterId)))
    .orderBy(asc(optOuts.id))
    .limit(page.limit + 1);
}

export async function countOptOuts(db: Db, phoneContains: string | null): Promise<number> {
  const [row] = await db.select({ n: count() }).from(optOuts).where(phoneCondition(phoneContains));
  return row.n;
}
