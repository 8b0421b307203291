import DataLoader from 'dataloader';
import type { LoaderFactory } from '../api/context';
import { toMessageStats, type MessageStatsValue } from '../messages/message.stats';
import { countByStatusForMailings } from './mailing-stats.store';
import { audienceSizeOf } from './mailing.service';
import type { MailingRow } from './mailing.table';
import { findMailingsByIds } from './mailing.store';

/**
 * A request's mailing loaders (`ctx.loaders.get(mailingLoaders)`): a page of 500 mailings
 * asking for `stats` costs one query, not one per row.
 */
export const mailingLoaders = (({ db }) => {
  const statsByMailingId = new DataLoader<number, MessageStatsValue>(async (ids) => {
    const counts = await countByStatusForMailings(db, ids);
    return ids.map((id) => toMessageStats(counts.get(id) ?? {}));
  });
  return {
    // A client's messages name their mailings: one query for a page of them.
    mailingById: new DataLoader<number, MailingRow | null>(async (ids) => {
      const rows = new Map((await findMailingsByIds(db, ids)).map((m) => [m.id, m]));
      return ids.map((id) => rows.get(id) ?? null);
    }),
    statsByMailingId,
    // Asked for by audienceSize and estimatedParts alike: a scheduled mailing's count of the
    // directory is made once a request, not once for each field.
    audienceSizeByMailing: new DataLoader<MailingRow, number, number>(
      (mailings) => Promise.all(mailings.map((m) => audienceSizeOf(db, m, async () => (await statsByMailingId.load(m.id)).total))),
      { cacheKeyFn: (m) => m.id },
    ),
  };
}) satisfies LoaderFactory<unknown>;
