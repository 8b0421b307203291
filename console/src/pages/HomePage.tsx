import { useQuery, useSubscription } from '@apollo/client/react';
import { Figure, ReceiptFigures } from '../components';
import { count } from '../format';
import { useThrottled } from '../hooks';
import { CLIENT_COUNT, CLIENTS_CHANGED, MESSAGES_PER_DAY, STATISTICS, STATISTICS_CHANGED } from '../operations';
import { MailingsTable } from './MailingsTable';
import { ProvidersPanel } from './ProvidersPanel';

const DAYS = 30;

export function HomePage() {
  const { data } = useQuery(STATISTICS);
  // Lands in the cached statistics (a singleton, see apollo.ts) that the query above shows.
  useSubscription(STATISTICS_CHANGED);
  // The directory's size, read again (at most once a second) as it changes.
  const clients = useQuery(CLIENT_COUNT);
  const recount = useThrottled(() => void clients.refetch(), 1_000);
  useSubscription(CLIENTS_CHANGED, { onData: recount });
  const s = data?.statistics;
  return (
    <>
      <h1>Overview</h1>
      {s && (
        <section className="figures" aria-label="overall statistics">
          {clients.data && <Figure label="clients" value={clients.data.clients.totalCount} />}
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
      <h2>Messages per day</h2>
      <MessagesPerDay />
      <h2>Recent mailings</h2>
      <MailingsTable recent filter={{ status: null }} pageSize={5} paged={false} empty="No mailing yet." />
    </>
  );
}

/**
 * Sent, delivered and failed messages of the last 30 UTC days, as bars (sent, with its failed
 * stacked on it) and delivered as a mark inside each: read when the overview opens, and again
 * (at most every 10 s) as the overall counts move.
 */
function MessagesPerDay() {
  const { data, refetch } = useQuery(MESSAGES_PER_DAY, { variables: { days: DAYS } });
  const reread = useThrottled(() => void refetch(), 10_000);
  useSubscription(STATISTICS_CHANGED, { onData: reread });
  const days = data?.statistics.messagesPerDay;
  if (!days) return null;
  const top = Math.max(1, ...days.map((d) => d.sent + d.failed));
  const width = 640;
  const height = 160;
  const slot = width / days.length;
  const bar = Math.max(2, slot * 0.7);
  const y = (n: number) => (n / top) * height;
  const total = days.reduce((t, d) => ({ sent: t.sent + d.sent, delivered: t.delivered + d.delivered, failed: t.failed + d.failed }), { sent: 0, delivered: 0, failed: 0 });
  return (
    <figure className="chart per-day" data-days={days.length}>
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={`messages per day, last ${days.length} days`}>
        {days.map((d, i) => {
          const x = i * slot + (slot - bar) / 2;
          return (
            <g key={d.day} data-day={d.day} data-sent={d.sent} data-delivered={d.delivered} data-failed={d.failed}>
              <title>{`${d.day}: ${count(d.sent)} sent, ${count(d.delivered)} delivered, ${count(d.failed)} failed`}</title>
              <rect className="day-sent" x={x} y={height - y(d.sent)} width={bar} height={y(d.sent)} />
              <rect className="day-failed" x={x} y={height - y(d.sent) - y(d.failed)} width={bar} height={y(d.failed)} />
              <rect className="day-delivered" x={x + bar * 0.3} y={height - y(d.delivered)} width={bar * 0.4} height={y(d.delivered)} />
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span>{days[0].day}</span>
        <span>
          {count(total.sent)} sent · {count(total.delivered)} delivered · {count(total.failed)} failed (UTC days)
        </span>
        <span>{days.at(-1)!.day}</span>
      </figcaption>
    </figure>
  );
}
