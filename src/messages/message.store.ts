import { and, asc, count, eq, gt } from 'drizzle-orm';
import type { Db } from '../db/connection';
import type { PageRequest } from '../common/page';
import { messages, type MessageRow, type MessageStatus } from './message.table';

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
