import { useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { Pager, Table } from '../components';
import { messageOf } from '../errors';
import { count, when } from '../format';
import type { DeliveryRowFragment, WebhookDeliveryStatus } from '../gql/graphql';
import { usePages } from '../hooks';
import { DELETE_WEBHOOK, TEST_WEBHOOK, UPDATE_WEBHOOK, WEBHOOK, WEBHOOKS } from '../operations';
import { Link, navigate } from '../router';
import { useCanWrite } from '../session';
import { eventName, WebhookState } from './WebhooksPage';

const PAGE_SIZE = 25;

export function DeliveryStatus({ status }: { status: WebhookDeliveryStatus }) {
  return <span className={`badge badge-delivery-${status.toLowerCase()}`}>{status.toLowerCase()}</span>;
}

/** One webhook: what it asks for, its deliveries newest first, a test, enable/disable, delete. */
export function WebhookPage({ id }: { id: string }) {
  const canWrite = useCanWrite();
  const pages = usePages(id);
  const { data, error, loading, refetch, startPolling, stopPolling } = useQuery(WEBHOOK, { variables: { id, first: PAGE_SIZE, after: pages.after }, skip: !canWrite, fetchPolicy: 'cache-and-network' });
  // Herald pushes no event for deliveries: while some are pending (a test just sent, a
  // receiver being retried) the page is read again every 2 s, and not at all otherwise.
  const pending = data?.webhook?.pendingDeliveries ?? 0;
  useEffect(() => {
    if (pending > 0) startPolling(2_000);
    else stopPolling();
    return () => stopPolling();
  }, [pending > 0, startPolling, stopPolling]);
  if (!canWrite) {
    return (
      <p className="notice" role="note">
        Webhooks are managed by an admin: signed in as a viewer you can neither see nor change them.
      </p>
    );
  }
  if (error) {
    return (
      <p className="field-error" role="alert">
        {messageOf(error)}
      </p>
    );
  }
  if (!data) return loading ? <p className="muted">Loading…</p> : null;
  const webhook = data.webhook;
  if (!webhook) return <p>There is no webhook {id}. <Link to="/webhooks">All webhooks</Link></p>;
  const deliveries = webhook.deliveries;

  return (
    <>
      <p className="muted">
        <Link to="/webhooks">Webhooks</Link> /
      </p>
      <div className="page-head webhook-head">
        <div className="title">
          <h1 className="webhook-url">{webhook.url}</h1>
          <WebhookState webhook={webhook} />
        </div>
        <WebhookActions id={webhook.id} url={webhook.url} enabled={webhook.enabled} onTested={() => void refetch()} latest={(eventId) => deliveries.edges.find(({ node }) => node.eventId === eventId)?.node} />
      </div>
      <dl className="facts">
        <dt>Events</dt>
        <dd>
          {webhook.events.map((e) => (
            <span key={e} className="tag">
              {eventName(e)}
            </span>
          ))}
        </dd>
        <dt>Description</dt>
        <dd>{webhook.description ?? <span className="muted">—</span>}</dd>
        <dt>Deliveries</dt>
        <dd>
          {count(deliveries.totalCount)} in all · <span data-pending={webhook.pendingDeliveries}>{count(webhook.pendingDeliveries)} pending</span> ·{' '}
          <span data-failed={webhook.failedDeliveries}>{count(webhook.failedDeliveries)} failed</span>
        </dd>
        <dt>Created</dt>
        <dd>{when(webhook.createdAt)}</dd>
        <dt>Changed</dt>
        <dd>{when(webhook.updatedAt)}</dd>
      </dl>

      <h2>Deliveries</h2>
      {deliveries.edges.length === 0 && pages.page === 1 ? (
        <p className="muted">Nothing has been sent to this webhook yet. “Send test” sends it an event of type TEST.</p>
      ) : (
        <>
          <Table className="deliveries" headers={['Event', 'Type', 'Status', 'Attempts', 'Last error', 'Happened', 'Delivered / next attempt']}>
            {deliveries.edges.map(({ node }) => (
              <DeliveryRow key={node.eventId} delivery={node} />
            ))}
          </Table>
          <Pager pages={pages} pageInfo={deliveries.pageInfo}>
            page {pages.page}
          </Pager>
        </>
      )}
    </>
  );
}

function DeliveryRow({ delivery: d, highlight }: { delivery: DeliveryRowFragment; highlight?: boolean }) {
  return (
    <tr data-delivery={d.eventId} data-type={d.type} data-status={d.status} className={highlight ? 'highlight' : undefined}>
      <td className="event-id" title={d.payload}>
        {d.eventId}
      </td>
      <td className="nowrap">{d.type === 'TEST' ? 'test' : eventName(d.type)}</td>
      <td>
        <DeliveryStatus status={d.status} />
      </td>
      <td className="number">{count(d.attempts)}</td>
      <td className="error-text">{d.lastError ?? ''}</td>
      <td className="nowrap">{when(d.createdAt)}</td>
      <td className="nowrap">{d.deliveredAt ? when(d.deliveredAt) : d.nextAttemptAt ? <span className="muted">next {when(d.nextAttemptAt)}</span> : <span className="muted">—</span>}</td>
    </tr>
  );
}

function WebhookActions(props: { id: string; url: string; enabled: boolean; onTested: () => void; latest: (eventId: string) => DeliveryRowFragment | undefined }) {
  const { id, url, enabled, onTested } = props;
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState<DeliveryRowFragment | null>(null);
  // The test delivery as the deliveries last read show it (delivered, retried), else as testWebhook answered.
  const tested = sent && (props.latest(sent.eventId) ?? sent);
  const [test, testing] = useMutation(TEST_WEBHOOK, { variables: { id } });
  const [update, updating] = useMutation(UPDATE_WEBHOOK);
  const [remove, removing] = useMutation(DELETE_WEBHOOK, {
    variables: { id },
    refetchQueries: [WEBHOOKS],
    update: (cache) => void cache.evict({ id: cache.identify({ __typename: 'Webhook', id }) }),
  });
  const run = (action: () => Promise<unknown>) => {
    setError(null);
    action().catch((e) => setError(messageOf(e)));
  };
  return (
    <div className="actions-block">
      <div className="actions">
        <button
          disabled={testing.loading}
          onClick={() =>
            run(async () => {
              const { data } = await test();
              if (data) setSent(data.testWebhook);
              onTested();
            })
          }
        >
          Send test
        </button>
        <button className="secondary" disabled={updating.loading} onClick={() => run(() => update({ variables: { id, input: { enabled: !enabled } } }))}>
          {enabled ? 'Disable' : 'Enable'}
        </button>
        <button
          className="danger"
          disabled={removing.loading}
          onClick={() =>
            confirm(`Delete the webhook ${url}? Its deliveries go with it, and nothing more is sent to it.`) &&
            run(async () => {
              await remove();
              navigate('/webhooks');
            })
          }
        >
          Delete
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {tested && (
        <div className={`test-result test-delivery-${tested.status.toLowerCase()}`} role="status" aria-label="test delivery">
          <p>
            Test event <code>{tested.eventId}</code>: <DeliveryStatus status={tested.status} />
            {tested.attempts > 0 && <> after {count(tested.attempts)} {tested.attempts === 1 ? 'attempt' : 'attempts'}</>}
          </p>
          {tested.lastError && <p className="error-text">{tested.lastError}</p>}
          <p className="muted">It is in the deliveries below, which show how it goes on.</p>
        </div>
      )}
    </div>
  );
}
