import DataLoader from 'dataloader';
import type { Principal } from '../auth/tokens';
import { findClientsByIds } from '../clients/client.store';
import { optedOutAmong } from '../clients/opt-out.store';
import type { ClientRow } from '../clients/client.table';
import type { Db } from '../db/connection';
import type { MailingTimers } from '../mailings/mailing.timers';
import type { SettledObserver } from '../mailings/mailing.lifecycle';
import type { LiveUpdates } from '../live/live-updates';
import type { Logger } from '../logger';
import type { CampaignRules } from '../mailings/campaign.rules';
import type { TestSender } from '../testsend/test-send.service';
import type { ReportQueue } from '../reports/report.service';
import { toMessageStats, type MessageStatsValue } from '../messages/message.stats';
import { countByStatusForMailings } from '../mailings/mailing-stats.store';
import { audienceSizeOf } from '../mailings/mailing.service';
import type { MailingRow } from '../mailings/mailing.table';

/** What every resolver receives: who asks, the database, a logger, and per-request loaders. */
export type Context = {
  principal: Principal;
  db: Db;
  log: Logger;
  loaders: ReturnType<typeof createLoaders>;
  /** to be told when a mailing's times or status change */
  timers: MailingTimers;
  /** what subscriptions read */
  live: LiveUpdates;
  /** the configured campaign rules (segments, frequency cap, failure rate) */
  campaign: CampaignRules;
  /** the gateway for test sends */
  testSender: TestSender;
  /** where sendStatisticsReport queues its job */
  reports: ReportQueue;
  /** told of messages a cancellation settles at once (metrics) */
  onSettled?: SettledObserver;
};

/**
 * Per-request batching: a page of 500 mailings asking for `stats`, or of messages asking
 * for `client`, costs one query, not one per row.
 */
export function createLoaders(db: Db) {
  const statsByMailingId = new DataLoader<number, MessageStatsValue>(async (ids) => {
    const counts = await countByStatusForMailings(db, ids);
    return ids.map((id) => toMessageStats(counts.get(id) ?? {}));
  });
  return {
    clientById: new DataLoader<number, ClientRow | null>(async (ids) => {
      const rows = new Map((await findClientsByIds(db, ids)).map((r) => [r.id, r]));
      return ids.map((id) => rows.get(id) ?? null);
    }),
    optedOutByPhone: new DataLoader<string, boolean>(async (phones) => {
      const out = await optedOutAmong(db, phones);
      return phones.map((p) => out.has(p));
    }),
    statsByMailingId,
    // Asked for by audienceSize and estimatedParts alike: a scheduled mailing's count of the
    // directory is made once a request, not once for each field.
    audienceSizeByMailing: new DataLoader<MailingRow, number, number>(
      (mailings) => Promise.all(mailings.map((m) => audienceSizeOf(db, m, async () => (await statsByMailingId.load(m.id)).total))),
      { cacheKeyFn: (m) => m.id },
    ),
  };
}

/**
 * The context for one event of a subscription: the operation's, with loaders of its own.
 * Loaders cache for as long as they live, and a subscription lives for hours: each event
 * reads afresh, as each HTTP request does.
 */
export function eventContext(operation: Context): Context {
  return { ...operation, loaders: createLoaders(operation.db) };
}
