import { useApolloClient, useQuery, useSubscription } from '@apollo/client/react';
import { useState } from 'react';
import { Pager, ProgressBar, StatusBadge } from '../components';
import { count, duration, rate, when } from '../format';
import type { MailingCardFragment, MailingSort, MailingStatus } from '../gql/graphql';
import { usePages, useThrottled } from '../hooks';
import { MAILING_PROGRESS, MAILINGS, MAILINGS_CHANGED } from '../operations';
import { Link } from '../router';

export type MailingsFilter = { status: MailingStatus | null; name?: string | null; startFrom?: string | null; startTo?: string | null };

export type MailingsOrder = { sort: MailingSort; descending: boolean };

// Short instants for a dense row (the mailing's page has them in full).
const short = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const at = (iso: string) => short.format(new Date(iso));

const NEWEST: MailingsOrder = { sort: 'CREATED_AT', descending: true };

/** The columns, each with the API's sort key (MailingSort) it orders by; Herald sorts, across pages. */
const COLUMNS: { label: string; sort: MailingSort; title?: string }[] = [
  { label: 'Mailing', sort: 'NAME' },
  { label: 'Status', sort: 'STATUS' },
  { label: 'Sent', sort: 'SENT', title: 'accepted by a provider, of its audience' },
  { label: 'Failed', sort: 'FAILED' },
  { label: 'Failure share', sort: 'FAILURE_SHARE', title: 'failed / (sent + failed)' },
  { label: 'Delivered', sort: 'DELIVERY_RATE', title: 'delivered / (delivered + undelivered), by receipts' },
  { label: 'Start', sort: 'STARTED_AT', title: 'when it started sending (else when it is to start)' },
  { label: 'Finish', sort: 'FINISHED_AT', title: 'when it completed or was cancelled (else when it ends)' },
  { label: 'Duration', sort: 'DURATION', title: 'finish − start, or so far' },
];

/**
 * A page of mailings, live: lifecycle events update their rows through the cache, and each
 * mailing under way is subscribed to for its progress. New and deleted mailings change which
 * rows the page holds (with a filter or an order of its own, so does any lifecycle event: a
 * status or a name changes): it is read again. Sorted by a count, rows keep their place as
 * their counts move until the list is read again (a list reordering under the pointer
 * cannot be clicked). `sortable` makes the column headers sort it.
 */
export function MailingsTable({
  filter,
  pageSize,
  empty,
  sortable = false,
  paged = true,
  recent = false,
}: {
  filter: MailingsFilter;
  pageSize: number;
  empty: string;
  sortable?: boolean;
  paged?: boolean;
  /** the overview's recent mailings: rows marked data-recent-mailing, so that a mailing also "sending now" is one data-mailing row on the page */
  recent?: boolean;
}) {
  const [order, setOrder] = useState<MailingsOrder>(NEWEST);
  const pages = usePages(JSON.stringify({ filter, order }));
  const { data, refetch } = useQuery(MAILINGS, { variables: { first: pageSize, after: pages.after, ...filter, ...order } });
  const filtered = Object.values(filter).some((v) => v !== null && v !== undefined) || order !== NEWEST;
  const { cache } = useApolloClient();
  const reread = useThrottled(() => void refetch(), 1_000);
  useSubscription(MAILINGS_CHANGED, {
    onData: ({ data: event }) => {
      const change = event.data?.mailingsChanged;
      if (!change) return;
      if (change.kind === 'DELETED') {
        cache.evict({ id: cache.identify({ __typename: 'Mailing', id: change.mailingId }) });
        cache.gc();
      }
      if (change.kind === 'CREATED' || change.kind === 'DELETED' || filtered) reread();
    },
  });
  const connection = data?.mailings;
  if (!connection) return null;
  if (connection.edges.length === 0 && pages.page === 1) return <p className="muted">{empty}</p>;
  // A click sorts by that column, largest (latest) first; a second click turns it round.
  const sortBy = (sort: MailingSort) => setOrder((o) => (o.sort === sort ? { sort, descending: !o.descending } : { sort, descending: sort !== 'NAME' && sort !== 'STATUS' }));
  return (
    <>
      {/* On a phone the table scrolls sideways inside its box; the page keeps the screen's width. */}
      <div className="table-scroll">
        <table className="mailings" data-sort={order.sort} data-descending={order.descending}>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.label} title={c.title} aria-sort={order.sort === c.sort ? (order.descending ? 'descending' : 'ascending') : undefined}>
                  {sortable ? (
                    <button type="button" className="sort" data-sort-key={c.sort} onClick={() => sortBy(c.sort)}>
                      {c.label}
                      <span className="sort-mark" aria-hidden="true">
                        {order.sort === c.sort ? (order.descending ? ' ▼' : ' ▲') : ''}
                      </span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {connection.edges.map(({ node }) => (
              <MailingRow key={node.id} mailing={node} recent={recent} />
            ))}
          </tbody>
        </table>
      </div>
      {paged ? (
        <Pager pages={pages} pageInfo={connection.pageInfo}>
          {connection.totalCount} in all
        </Pager>
      ) : (
        <p className="muted">
          {connection.edges.length} of {connection.totalCount} · <Link to="/mailings">see the whole list</Link>
        </p>
      )}
    </>
  );
}

function MailingRow({ mailing, recent }: { mailing: MailingCardFragment; recent: boolean }) {
  // Its events land in the cache under Mailing:<id>, which is what this row shows.
  useSubscription(MAILING_PROGRESS, { variables: { id: mailing.id }, skip: !mailing.underWay });
  const { stats } = mailing;
  const outcomes = stats.sent + stats.failed;
  const took = mailing.startedAt ? ((mailing.finishedAt ? Date.parse(mailing.finishedAt) : Date.now()) - Date.parse(mailing.startedAt)) / 1000 : null;
  return (
    <tr {...{ [recent ? 'data-recent-mailing' : 'data-mailing']: mailing.id }}>
      <td className="text-cell">
        <Link to={`/mailings/${mailing.id}`}>{mailing.name ? <strong className="mailing-name">{mailing.name}</strong> : mailing.text}</Link>
        {mailing.name && <div className="muted mailing-snippet">{mailing.text}</div>}
      </td>
      <td>
        <StatusBadge status={mailing.status} />
        {mailing.pausedReason && <div className="paused-note" title={mailing.pausedReason}>paused itself</div>}
      </td>
      <td>
        <ProgressBar sent={stats.sent} failed={stats.failed} total={stats.total} label={`sent of mailing ${mailing.id}`} />
      </td>
      <td className="num" data-cell="failed">
        {count(stats.failed)}
      </td>
      <td className="num" data-cell="failure share">
        {outcomes === 0 ? '—' : rate(stats.failed / outcomes)}
      </td>
      <td className="num" data-cell="delivered">
        {rate(stats.deliveryRate)}
      </td>
      <td className="muted nowrap" data-cell="start">
        {mailing.startedAt ? <span title={when(mailing.startedAt)}>{at(mailing.startedAt)}</span> : <span title={`to start at ${when(mailing.startAt)}`}>{at(mailing.startAt)} (planned)</span>}
      </td>
      <td className="muted nowrap" data-cell="finish">
        {mailing.finishedAt ? <span title={when(mailing.finishedAt)}>{at(mailing.finishedAt)}</span> : <span title={`ends at ${when(mailing.endAt)} at the latest`}>by {at(mailing.endAt)}</span>}
      </td>
      <td className="nowrap" data-cell="duration">
        {took === null ? '—' : took < 1 ? `${Math.round(took * 1000)} ms` : duration(took)}
      </td>
    </tr>
  );
}
