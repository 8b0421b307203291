import { useQuery } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { MessageStatusBadge, Pager, Table, TextField } from '../components';
import { fieldErrorsOf } from '../errors';
import { count, when } from '../format';
import type { MessageStatus } from '../gql/graphql';
import { usePages, useSettled } from '../hooks';
import { MAILING_MESSAGES } from '../operations';
import { Link } from '../router';

const PAGE_SIZE = 50;

// Every MessageStatus, in the schema's order: `satisfies` makes the build fail when one is missing.
const STATUS_LABELS = {
  PENDING: 'pending',
  SENT: 'sent',
  FAILED: 'failed',
  EXPIRED: 'expired',
  CANCELLED: 'cancelled',
  SKIPPED: 'skipped',
  DELIVERED: 'delivered',
  UNDELIVERED: 'undelivered',
} satisfies Record<MessageStatus, string>;
const STATUSES = Object.keys(STATUS_LABELS) as MessageStatus[];

/**
 * A mailing's messages (`/mailings/:id/messages`), in id order, 50 a page: narrowed by status,
 * by digits of the phone each went to and, from a failure reason's link, by that reason
 * (`?status=UNDELIVERED&reason=…`). The narrowing stays in the address, so a reload or a
 * shared link shows the same rows.
 */
export function MessagesPage({ id }: { id: string }) {
  const initial = new URLSearchParams(location.search);
  const [status, setStatus] = useState<MessageStatus | ''>(() => (STATUSES as string[]).includes(initial.get('status') ?? '') ? (initial.get('status') as MessageStatus) : '');
  const [reason, setReason] = useState(() => initial.get('reason') ?? '');
  const [phone, setPhone] = useState(() => initial.get('phone') ?? '');
  const search = useSettled(phone.trim(), 300);
  const pages = usePages(`${status}|${reason}|${search}`);
  useEffect(() => {
    const query = new URLSearchParams();
    if (status) query.set('status', status);
    if (reason) query.set('reason', reason);
    if (search) query.set('phone', search);
    const q = query.toString();
    history.replaceState(null, '', `/mailings/${id}/messages${q ? `?${q}` : ''}`);
  }, [id, status, reason, search]);
  const { data, error } = useQuery(MAILING_MESSAGES, {
    variables: { id, first: PAGE_SIZE, after: pages.after, status: status || null, phone: search || null, reason: reason || null },
    fetchPolicy: 'cache-and-network',
  });
  const errors = error ? fieldErrorsOf(error) : {};
  const mailing = data?.mailing;
  const connection = mailing?.messages;
  if (data && !mailing) return <p>There is no mailing {id}.</p>;
  const personalised = mailing?.text.includes('{{') ?? false;

  return (
    <>
      <p className="crumbs">
        <Link to={`/mailings/${id}`}>← {mailing?.name ?? `Mailing ${id}`}</Link>
      </p>
      <div className="page-head">
        <h1>Messages</h1>
        {connection && (
          <span className="muted" data-total={connection.totalCount}>
            {count(connection.totalCount)} {connection.totalCount === 1 ? 'message' : 'messages'}
          </span>
        )}
      </div>
      <section className="filters" aria-label="narrow the messages">
        <TextField label="Find a phone" value={phone} onChange={setPhone} placeholder="digits it contains" errors={errors} field="phone" />
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as MessageStatus | '')}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </label>
        {reason && (
          <p className="active-reason" data-reason={reason}>
            with the reason <code>{reason}</code>{' '}
            <button className="link" onClick={() => setReason('')}>
              any reason
            </button>
          </p>
        )}
      </section>
      {error && !errors.phone && (
        <p className="field-error" role="alert">
          {Object.values(errors).join('; ')}
        </p>
      )}
      {mailing && !mailing.messagesRetained ? (
        <p className="muted retention-note" role="status">
          Its messages were removed by the retention (MESSAGE_RETENTION_DAYS, see docs/retention.md): its figures stay on the mailing&apos;s page.
        </p>
      ) : null}
      {connection &&
        mailing?.messagesRetained !== false &&
        (connection.edges.length === 0 && pages.page === 1 ? (
          <p className="muted">No message of this mailing matches.{status === '' && !search && !reason ? ' A message has a row once it was tried, or its mailing ended.' : ''}</p>
        ) : (
          <>
            <div className="table-scroll">
              <Table className="messages browse" headers={['Message', 'Status', 'Phone', 'Attempts', 'Provider', 'Sent at', 'Receipt at', 'Last error', ...(personalised ? ['Text sent'] : [])]}>
                {connection.edges.map(({ node: m }) => (
                  <tr key={m.id} data-message={m.id} data-status={m.status}>
                    <td>{m.id}</td>
                    <td>
                      <MessageStatusBadge status={m.status} />
                    </td>
                    <td className="nowrap">{m.client ? <Link to={`/clients/${m.clientId}`}>{m.phone}</Link> : <span title={`client ${m.clientId}, deleted`}>{m.phone}</span>}</td>
                    <td>{m.attempts}</td>
                    <td className="provider-cell" title={m.providerMessageId ? `its id at ${m.provider}: ${m.providerMessageId}` : undefined}>
                      {m.provider ?? '—'}
                    </td>
                    <td className="nowrap">{m.sentAt ? when(m.sentAt) : ''}</td>
                    <td className="nowrap">{m.deliveredAt ? when(m.deliveredAt) : ''}</td>
                    <td className="error-text">{m.lastError ?? ''}</td>
                    {personalised && <td className="text-cell">{m.text ?? ''}</td>}
                  </tr>
                ))}
              </Table>
            </div>
            <Pager pages={pages} pageInfo={connection.pageInfo}>
              page {pages.page}
            </Pager>
          </>
        ))}
    </>
  );
}
