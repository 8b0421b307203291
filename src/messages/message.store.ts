import { and, asc, count, eq, gt, inArray } from 'drizzle-orm';
import type { Db } from '../db/connection';
import type { PageRequest } from '../graphql/connection';
import type { StatusCounts } from './message.stats';
import { messages, type MessageRow, type MessageStatus } from './message.table';

/** Counts by status for each of the given mailings, read from the (mailing_id, status) index. */
export async function countByStatusForMailings(db: Db, mailingIds: readonly number[]): Promise<Map<number, StatusCounts>> {
  const rows = await db
    .select({ mailingId: messages.mailingId, status: messages.status, n: count() })
    .from(messages)
    .where(inArray(messages.mailingId, [...mailingIds]))
    .groupBy(messages.mailingId, messages.status);
  const byMailing = new Map<number, StatusCounts>(mailingIds.map((id) => [id, {}]));
  for (const row of rows) byMailing.get(row.mailingId)![row.status] = row.n;
  return byMailing;
}

export async function countByStatus(db: Db): Promise<StatusCounts> {
  const rows = await db.select({ status: messages.status, n: count() }).from(messages).groupBy(messages.status);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

function mailingMessagesCondition(mailingId: number, status: MessageStatus | null) {
  return and(eq(messages.mailingId, mailingId), status ? eq(messages.status, status) : undefined);
}

export function listMailingMessages(
  db: Db,
  mailingId: number,
  status: MessageStatus | null,
  page: PageRequest,
): Promise<MessageRow[]> {
  return db
    .select()
    .from(messages)
    .where(and(mailingMessagesCondition(mailingId, status), page.afterId === undefined ? undefined : gt(messages.id, page.afterId)))
    .orderBy(asc(messages.id))
    .limit(page.limit + 1);
}

export async function countMailingMessages(db: Db, mailingId: number, status: MessageStatus | null): Promise<number> {
  const [row] = await db.select({ n: count() }).from(messages).where(mailingMessagesCondition(mailingId, status));
  return row.n;
}

/** Removes a client's PENDING messages (the client left the directory); returns how many. */
export async function deleteUnsentMessagesOf(db: Db, clientId: number): Promise<number> {
  const deleted = await db
    .delete(messages)
    .where(and(eq(messages.clientId, clientId), eq(messages.status, 'PENDING')))
    .returning({ id: messages.id });
  return deleted.length;
}
