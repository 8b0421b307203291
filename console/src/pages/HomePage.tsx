import { useQuery, useSubscription } from '@apollo/client/react';
import { Figure, ReceiptFigures } from '../components';
import { STATISTICS, STATISTICS_CHANGED } from '../operations';
import { MailingsTable } from './MailingsTable';
import { ProvidersPanel } from './ProvidersPanel';

export function HomePage() {
  const { data } = useQuery(STATISTICS);
  // Lands in the cached statistics (a singleton, see apollo.ts) that the query above shows.
  useSubscription(STATISTICS_CHANGED);
  const s = data?.statistics;
  return (
    <>
      <h1>Overview</h1>
      {s && (
        <section className="figures" aria-label="overall statistics">
          <Figure label="mailings" value={s.mailingCount} />
          <Figure label="messages" value={s.messages.total} />
          <Figure label="sent" value={s.messages.sent} tone="sent" />
          <Figure label="pending" value={s.messages.pending} tone="pending" />
          <Figure label="failed" value={s.messages.failed} tone="failed" />
          <Figure label="expired" value={s.messages.expired} />
          <Figure label="cancelled" value={s.messages.cancelled} />
          <Figure label="skipped" value={s.messages.skipped} />
        </section>
      )}
      {s && <ReceiptFigures stats={s.messages} />}
      <h2>Providers</h2>
      <ProvidersPanel />
      <h2>Sending now</h2>
      <MailingsTable filter={{ status: 'RUNNING' }} pageSize={10} empty="No mailing is sending right now." />
    </>
  );
}
