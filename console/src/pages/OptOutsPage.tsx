import { useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Pager, Table, TextField } from '../components';
import { FieldError, type FieldErrors, fieldErrorsOf, messageOf } from '../errors';
import { count, when } from '../format';
import { usePages, useSettled, useThrottled } from '../hooks';
import { CLIENTS_CHANGED, OPT_IN, OPT_OUT, OPT_OUTS } from '../operations';
import { useCanWrite } from '../session';

const PAGE_SIZE = 25;

/**
 * Phones that asked to receive nothing, in the order they opted out. Kept by phone: an
 * opt-out outlives the client's deletion and holds for one added or imported later. Herald
 * announces every opt-out and opt-in as a change to the directory (clientsChanged): the page
 * is read again then, at most once a second.
 */
export function OptOutsPage() {
  const canWrite = useCanWrite();
  const [phone, setPhone] = useState('');
  const search = useSettled(phone.trim(), 300);
  const pages = usePages(search);
  const { data, error, refetch } = useQuery(OPT_OUTS, { variables: { first: PAGE_SIZE, after: pages.after, phone: search || null } });
  const searchErrors = error ? fieldErrorsOf(error) : {};
  const reread = useThrottled(() => void refetch(), 1_000);
  useSubscription(CLIENTS_CHANGED, { onData: reread });
  const connection = data?.optOuts;

  return (
    <>
      <div className="page-head">
        <h1>Opt-outs</h1>
        {connection && <span className="muted">{count(connection.totalCount)} {connection.totalCount === 1 ? 'phone' : 'phones'} opted out</span>}
      </div>
      <p className="hint">
        An opted-out phone is in no mailing's audience, and a mailing already running skips its message. Opting back in counts for mailings that start from then on.
      </p>
      {canWrite && <OptOutForm />}
      <section className="filters" aria-label="search">
        <TextField label="Find a phone" value={phone} onChange={setPhone} placeholder="digits it contains" errors={searchErrors} field="phone" />
      </section>
      {error && !searchErrors.phone && (
        <p className="field-error" role="alert">
          {Object.values(searchErrors).join('; ')}
        </p>
      )}
      {connection &&
        (connection.edges.length === 0 && pages.page === 1 ? (
          <p className="muted">{search ? 'No opted-out phone contains these digits.' : 'No phone has opted out.'}</p>
        ) : (
          <>
            <Table className="opt-outs" headers={['Phone', 'Reason', 'Opted out', ...(canWrite ? [''] : [])]}>
              {connection.edges.map(({ node }) => (
                <tr key={node.id} data-opt-out={node.phone}>
                  <td>{node.phone}</td>
                  <td>{node.reason ?? <span className="muted">—</span>}</td>
                  <td className="nowrap">{when(node.optedOutAt)}</td>
                  {canWrite && (
                    <td className="row-actions">
                      <OptIn phone={node.phone} />
                    </td>
                  )}
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

/** The list follows by itself: Herald announces an opt-out or opt-in as a directory change (clientsChanged). */
function OptOutForm() {
  const [phone, setPhone] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [done, setDone] = useState<string | null>(null);
  const [optOut, { loading }] = useMutation(OPT_OUT);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    setDone(null);
    try {
      await optOut({ variables: { phone: phone.trim(), reason: reason.trim() || null } });
      setDone(phone.trim());
      setPhone('');
      setReason('');
    } catch (e) {
      setErrors(fieldErrorsOf(e));
    }
  }

  return (
    <form className="card form" onSubmit={submit} noValidate aria-label="opt out">
      <h2>Opt a phone out</h2>
      <div className="row">
        <TextField label="Phone" value={phone} onChange={setPhone} placeholder="79161234567" errors={errors} field="phone" />
        <TextField label="Reason" value={reason} onChange={setReason} placeholder="e.g. replied STOP (optional)" errors={errors} field="reason" />
        <button type="submit" disabled={loading || phone.trim() === ''}>
          Opt out
        </button>
      </div>
      <FieldError errors={errors} fields={['']} />
      {done && (
        <p className="muted" role="status">
          {done} opted out: no mailing sends to it from now on.
        </p>
      )}
    </form>
  );
}

function OptIn({ phone }: { phone: string }) {
  const [optIn, { loading }] = useMutation(OPT_IN, { variables: { phone } });
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button
        className="secondary"
        disabled={loading}
        onClick={() =>
          confirm(`Opt ${phone} back in? Mailings that start from now on will include it.`) &&
          optIn().catch((e) => setError(messageOf(e)))
        }
      >
        Opt in
      </button>
      {error && <span className="field-error">{error}</span>}
    </>
  );
}
