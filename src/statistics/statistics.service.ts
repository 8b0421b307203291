import type { Db } from '../db/connection';
import { countMailings, EVERY_MAILING } from '../mailings/mailing.store';
import { toMessageStats, type MessageStatsValue } from '../messages/message.stats';
import { countByStatus } from '../mailings/mailing-stats.store';

export type StatisticsValue = { mailingCount: number; messages: MessageStatsValue };

/** The overall figures: a count of mailings and a sum over the per-mailing counters. */
export async function readStatistics(db: Db): Promise<StatisticsValue> {
  const [mailingCount, counts] = await Promise.all([countMailings(db, EVERY_MAILING), countByStatus(db)]);
  return { mailingCount, messages: toMessageStats(counts) };
}
