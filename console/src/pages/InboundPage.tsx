import { useQuery, useSubscription } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { Pager, Table, TextField } from '../components';
import { fieldErrorsOf } from '../errors';
import { count, when } from '../format';
import type { InboundAction, InboundRowFragment } from '../gql/graphql';
import { usePages, useSettled } from '../hooks';
import { INBOUND_MESSAGES, INBOUND_RECEIVED } from '../operations';
import { Link } from '../router';

const PAGE_SIZE = 25;

/** What Herald did with a reply, in words: a STOP opted its phone out, a START back in. */
export function ActionBadge({ action }: { action: InboundAction | null | undefined }) {
  if (!action) return <span className="muted">—</span>;
  return <span className={`badge badge-${action === 'OPTED_OUT' ? 'opted-out' : 'opted-in'}`}>{action === 'OPTED_OUT' ? 'opted out' : 'opted in'}</span>;
}

/**
 * The replies providers handed Herald, newest first. A reply that arrives while the page is
 * open (inboundReceived) goes on top of the first page at once; on a later page it is
 * counted instead, so that the rows being read do not move.
 */
export function InboundPage() {
  const [phone, setPhone] = useState('');
  const search = useSettled(phone.trim(), 300);
  const pages = usePages(search);
  const { data, error } = useQuery(INBOUND_MESSAGES, { variables: { first: PAGE_SIZE, after: pages.after, phone: search || null }, fetchPolicy: 'cache-and-network' });
  const searchErrors = error ? fieldErrorsOf(error) : {};
  // Replies received since the page was read, newest first; those the search would not find are left out.
  const [fresh, setFresh] = useState<InboundRowFragment[]>([]);
  const [unseen, setUnseen] = useState(0);
  useEffect(() => setFresh([]), [search]);
  useEffect(() => {
    if (pages.page === 1) setUnseen(0);
  }, [pages.page]);
  useSubscription(INBOUND_RECEIVED, {
    onData: ({ data: event }) => {
      const reply = event.data?.inboundReceived;
      if (!reply || (search && !reply.from.includes(search))) return;
      setFresh((list) => (list.some((r) => r.id === reply.id) ? list : [reply, ...list]));
      if (pages.page > 1) setUnseen((n) => n + 1);
    },
  });
  const connection = data?.inboundMessages;
  const read = new Set(connection?.edges.map(({ node }) => node.id));
  const added = fresh.filter((r) => !read.has(r.id));
  const rows = [...(pages.page === 1 ? added : []), ...(connection?.edges.map(({ node }) => node) ?? [])];
  const total = (connection?.totalCount ?? 0) + added.length;

  return (
    <>
      <div className="page-head">
        <h1>Replies</h1>
        {connection && <span className="muted">{count(total)} {total === 1 ? 'reply' : 'replies'}</span>}
      </div>
      <p className="hint">
        What clients answered, as the providers handed it to Herald. A reply of STOP opts its phone out and START opts it back in; any other reply is kept, and nothing is done with it.
      </p>
      <section className="filters" aria-label="search">
        <TextField label="Find a phone" value={phone} onChange={setPhone} placeholder="digits it contains" errors={searchErrors} field="phone" />
      </section>
      {error && !searchErrors.phone && (
        <p className="field-error" role="alert">
          {Object.values(searchErrors).join('; ')}
        </p>
      )}
      {unseen > 0 && (
        <p className="new-replies" role="status">
          {count(unseen)} new {unseen === 1 ? 'reply' : 'replies'} since this page was read.{' '}
          <button className="link" onClick={() => pages.reset()}>
            Show the newest
          </button>
        </p>
      )}
      {connection &&
        (rows.length === 0 && pages.page === 1 ? (
          <p className="muted">{search ? 'No reply from a phone with these digits.' : 'No reply has been received.'}</p>
        ) : (
          <>
            <Table className="inbound" headers={['From', 'Text', 'Received', 'Provider', 'Client', 'Action']}>
              {rows.map((node) => (
                <tr key={node.id} data-inbound={node.id} data-from={node.from}>
                  <td className="nowrap">{node.from}</td>
                  <td className="reply-text">{node.text}</td>
                  <td className="nowrap">{when(node.receivedAt)}</td>
                  <td className="provider-cell">{node.provider}</td>
                  <td>
                    {node.client ? (
                      <Link to={`/clients?phone=${encodeURIComponent(node.client.phone)}`}>{node.client.name ?? node.client.phone}</Link>
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                  <td>
                    <ActionBadge action={node.action} />
                  </td>
                </tr>
              ))}
            </Table>
            <Pager pages={pages} pageInfo={connection.pageInfo}>
              page {pages.page}
            </Pager>
          </>
        ))}
    </>
  );
}
