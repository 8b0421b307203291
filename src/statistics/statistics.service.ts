import { coalescedRead } from '../common/coalesced-read';
import type { Db } from '../db/connection';
import { countMailings, EVERY_MAILING } from '../mailings/mailing.store';
import { toMessageStats, type MessageStatsValue } from '../messages/message.stats';
import { countByStatus } from '../mailings/mailing-stats.store';

export type StatisticsValue = { mailingCount: number; messages: MessageStatsValue };

const reads = new WeakMap<Db, () => Promise<StatisticsValue>>();

/**
 * The overall figures: a count of mailings and a sum over the per-mailing counters. The same
 * for every caller: requests asking at once share one read (coalescedRead), each answered
 * with figures read after it asked.
 */
export function readStatistics(db: Db): Promise<StatisticsValue> {
  let read = reads.get(db);
  if (!read) {
    read = coalescedRead(async () => {
      const [mailingCount, counts] = await Promise.all([countMailings(db, EVERY_MAILING), countByStatus(db)]);
      return { mailingCount, messages: toMessageStats(counts) };
    });
    reads.set(db, read);
  }
  return read();
}
