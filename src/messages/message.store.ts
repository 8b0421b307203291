import { and, asc, count, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import type { PageRequest } from '../graphql/connection';
import type { StatusCounts } from './message.stats';
import { mailingStats, messages, type MessageRow, type MessageStatus } from './message.table';

/** Counts by status for each of the given mailings, from the maintained counters (one row each). */
export async function countByStatusForMailings(db: Db, mailingIds: readonly number[]): Promise<Map<number, StatusCounts>> {
  const rows = await db.select().from(mailingStats).where(inArray(mailingStats.mailingId, [...mailingIds]));
  const byMailing = new Map<number, StatusCounts>(mailingIds.map((id) => [id, {}]));
  for (const { mailingId, ...counts } of rows) byMailing.set(mailingId, countsOf(counts));
  return byMailing;
}

/** Counts by status over every mailing: a sum over one counter row per mailing. */
export async function countByStatus(db: Db): Promise<StatusCounts> {
  const [row] = await db
    .select({
      pending: sql<number>`coalesce(sum(${mailingStats.pending}), 0)::bigint`.mapWith(Number),
      sent: sql<number>`coalesce(sum(${mailingStats.sent}), 0)::bigint`.mapWith(Number),
      failed: sql<number>`coalesce(sum(${mailingStats.failed}), 0)::bigint`.mapWith(Number),
      expired: sql<number>`coalesce(sum(${mailingStats.expired}), 0)::bigint`.mapWith(Number),
      cancelled: sql<number>`coalesce(sum(${mailingStats.cancelled}), 0)::bigint`.mapWith(Number),
      queued: sql<number>`coalesce(sum(${mailingStats.queued}), 0)::bigint`.mapWith(Number),
    })
    .from(mailingStats);
  return countsOf(row);
}

/**
 * A counter row as counts by status. Audience members without a message row yet (`queued`)
 * are pending: their message exists for the statistics from the mailing's start.
 */
export function countsOf(c: { pending: number; sent: number; failed: number; expired: number; cancelled: number; queued: number }): StatusCounts {
  return { PENDING: c.pending + c.queued, SENT: c.sent, FAILED: c.failed, EXPIRED: c.expired, CANCELLED: c.cancelled };
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
