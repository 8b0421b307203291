import { useQuery, useSubscription } from '@apollo/client/react';
import { MessageStatusBadge, Pager, Table } from '../components';
import { count, when } from '../format';
import { usePages } from '../hooks';
import { CLIENT_PAGE, CLIENTS_CHANGED } from '../operations';
import { Link } from '../router';

const PAGE_SIZE = 25;

/**
 * A client (`/clients/:id`): its fields, whether its phone opted out, and its message history
 * across mailings, newest mailing first, 25 a page (`Client.messages`). Read again when the
 * directory or opt-outs change (clientsChanged).
 */
export function ClientPage({ id }: { id: string }) {
  const pages = usePages(id);
  const { data, refetch } = useQuery(CLIENT_PAGE, { variables: { id, first: PAGE_SIZE, after: pages.after }, fetchPolicy: 'cache-and-network' });
  useSubscription(CLIENTS_CHANGED, { onData: () => void refetch() });
  if (!data) return <p className="muted">Loading…</p>;
  const client = data.client;
  if (!client) return <p>There is no client {id}: it may have been deleted (its messages keep their history on their mailings' pages).</p>;
  const attributes = Object.entries(client.attributes ?? {});
  const history = client.messages;

  return (
    <>
      <p className="crumbs">
        <Link to="/clients">← Clients</Link>
      </p>
      <div className="page-head">
        <h1>{client.name ? `${client.name} · ${client.phone}` : client.phone}</h1>
        {client.optedOut ? (
          <span className="badge badge-opted-out" data-opted-out="yes">
            opted out
          </span>
        ) : (
          <span className="badge badge-opted-in" data-opted-out="no">
            receives mailings
          </span>
        )}
      </div>
      <dl className="facts client-facts">
        <dt>Phone</dt>
        <dd data-fact="phone">{client.phone}</dd>
        <dt>Name</dt>
        <dd>{client.name ?? <span className="muted">none</span>}</dd>
        <dt>Operator code</dt>
        <dd>{client.operatorCode}</dd>
        <dt>Tags</dt>
        <dd>{client.tags.length ? client.tags.map((t) => <span key={t} className="tag">{t}</span>) : <span className="muted">none</span>}</dd>
        <dt>Time zone</dt>
        <dd>{client.timezone}</dd>
        <dt>Attributes</dt>
        <dd>{attributes.length ? attributes.map(([k, v]) => <div key={k}><code>{k}</code> = {v}</div>) : <span className="muted">none</span>}</dd>
        <dt>Opt-out</dt>
        <dd>
          {client.optedOut ? 'its phone asked to receive nothing: no mailing sends to it' : 'not opted out'} (<Link to={`/clients/opt-outs`}>opt-outs</Link>)
        </dd>
        <dt>Added</dt>
        <dd>{when(client.createdAt)}, changed {when(client.updatedAt)}</dd>
      </dl>

      <h2>
        Messages <span className="muted">{count(history.totalCount)} across mailings</span>
      </h2>
      {history.edges.length === 0 && pages.page === 1 ? (
        <p className="muted">No message yet. A message shows once it was tried, or its mailing ended.</p>
      ) : (
        <>
          <div className="table-scroll">
            <Table className="messages client-messages" headers={['Mailing', 'Status', 'Attempts', 'Provider', 'Sent at', 'Receipt at', 'Last error', 'Text sent']}>
              {history.edges.map(({ node: m }) => (
                <tr key={m.id} data-message={m.id} data-mailing={m.mailingId}>
                  <td className="nowrap">
                    <Link to={`/mailings/${m.mailingId}`}>{m.mailing?.name ?? `Mailing ${m.mailingId}`}</Link>
                  </td>
                  <td>
                    <MessageStatusBadge status={m.status} />
                  </td>
                  <td>{m.attempts}</td>
                  <td className="provider-cell">{m.provider ?? '—'}</td>
                  <td className="nowrap">{m.sentAt ? when(m.sentAt) : ''}</td>
                  <td className="nowrap">{m.deliveredAt ? when(m.deliveredAt) : ''}</td>
                  <td className="error-text">{m.lastError ?? ''}</td>
                  <td className="text-cell">{m.text ?? ''}</td>
                </tr>
              ))}
            </Table>
          </div>
          <Pager pages={pages} pageInfo={history.pageInfo}>
            page {pages.page}
          </Pager>
        </>
      )}
    </>
  );
}
