import { useApolloClient, useQuery, useSubscription } from '@apollo/client/react';
import { Pager, ProgressBar, StatusBadge, Table } from '../components';
import { when } from '../format';
import type { MailingCardFragment, MailingStatus } from '../gql/graphql';
import { usePages, useThrottled } from '../hooks';
import { MAILING_PROGRESS, MAILINGS, MAILINGS_CHANGED } from '../operations';
import { Link } from '../router';

export type MailingsFilter = { status: MailingStatus | null; name?: string | null; startFrom?: string | null; startTo?: string | null };

/**
 * A page of mailings, live: lifecycle events update their rows through the cache, and each
 * mailing under way is subscribed to for its progress. New and deleted mailings change which
 * rows the page holds (with a filter, so does any lifecycle event: a status or a name
 * changes): it is read again.
 */
export function MailingsTable({ filter, pageSize, empty }: { filter: MailingsFilter; pageSize: number; empty: string }) {
  const pages = usePages(JSON.stringify(filter));
  const { data, refetch } = useQuery(MAILINGS, { variables: { first: pageSize, after: pages.after, ...filter } });
  const filtered = Object.values(filter).some((v) => v !== null && v !== undefined);
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
  return (
    <>
      <Table className="mailings" headers={['Mailing', 'Status', 'Sent', 'Period']}>
        {connection.edges.map(({ node }) => (
          <MailingRow key={node.id} mailing={node} />
        ))}
      </Table>
      <Pager pages={pages} pageInfo={connection.pageInfo}>
        {connection.totalCount} in all
      </Pager>
    </>
  );
}

function MailingRow({ mailing }: { mailing: MailingCardFragment }) {
  // Its events land in the cache under Mailing:<id>, which is what this row shows.
  useSubscription(MAILING_PROGRESS, { variables: { id: mailing.id }, skip: !mailing.underWay });
  const { stats } = mailing;
  return (
    <tr data-mailing={mailing.id}>
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
      <td className="muted nowrap">
        {when(mailing.startAt)} – {when(mailing.endAt)}
      </td>
    </tr>
  );
}
