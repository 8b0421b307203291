import { useApolloClient, useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useEffect, useRef, useState } from 'react';
import { Figure, ProgressBar, StatusBadge, Table, ThroughputChart, type Sample } from '../components';
import { fieldErrorsOf } from '../errors';
import { duration, when } from '../format';
import { useThrottled } from '../hooks';
import { CANCEL_MAILING, DELETE_MAILING, FAILED_MESSAGES, MAILING, MAILING_PROGRESS, PAUSE_MAILING, RESUME_MAILING, THROUGHPUT } from '../operations';
import { Link, navigate } from '../router';
import { useCanWrite } from '../session';

// Points kept for the throughput chart: a few minutes of events at four a second.
const CHART_POINTS = 1_200;
// What FAILED_MESSAGES asks for.
const FAILED_SHOWN = 50;

export function MailingPage({ id }: { id: string }) {
  const canWrite = useCanWrite();
  const { data, loading } = useQuery(MAILING, { variables: { id } });
  // The chart: the throughput so far as Herald counted it when the page opened, then the
  // rate of each progress event.
  const history = useQuery(THROUGHPUT, { variables: { id } });
  const [liveSamples, setLiveSamples] = useState<Sample[]>([]);
  // Every event updates Mailing:<id> in the cache (the figures below); rate, ETA and risk
  // are the event's own.
  const { data: live } = useSubscription(MAILING_PROGRESS, {
    variables: { id },
    onData: ({ data: event }) => {
      const p = event.data?.mailingProgress;
      if (p) setLiveSamples((s) => [...s.slice(1 - CHART_POINTS), { at: Date.parse(p.at), rate: p.ratePerSecond }]);
    },
  });
  const before: Sample[] = history.data?.mailing?.throughput.points.map((p) => ({ at: Date.parse(p.at), rate: p.perSecond })) ?? [];
  const samples = [...before, ...liveSamples.filter((s) => s.at > (before.at(-1)?.at ?? 0))];
  const failedMessages = useQuery(FAILED_MESSAGES, { variables: { id } });
  const mailing = data?.mailing;

  // The list of failed messages is read again when the live count of failures grows.
  const rereadFailed = useThrottled(() => void failedMessages.refetch(), 2_000);
  const failedSeen = useRef<number | null>(null);
  const failed = mailing?.stats.failed;
  useEffect(() => {
    if (failed === undefined) return;
    if (failedSeen.current !== null && failed > failedSeen.current) rereadFailed();
    failedSeen.current = failed;
  }, [failed, rereadFailed]);

  if (loading && !mailing) return null;
  if (!mailing) return <p>There is no mailing {id}.</p>;
  const progress = live?.mailingProgress;
  const { stats, status } = mailing;
  const final = status === 'COMPLETED' || status === 'CANCELLED';
  const failures = failedMessages.data?.mailing?.messages.edges.map((e) => e.node) ?? [];

  return (
    <>
      <div className="page-head">
        <h1>Mailing {mailing.id}</h1>
        <StatusBadge status={status} />
        {canWrite && <MailingActions id={mailing.id} status={status} />}
      </div>
      <p className="mailing-text">{mailing.text}</p>
      <dl className="facts">
        <dt>Period</dt>
        <dd>
          {when(mailing.startAt)} – {when(mailing.endAt)}
        </dd>
        <dt>For</dt>
        <dd>{describeFilter(mailing.filter)}</dd>
        <dt>Send window</dt>
        <dd>{mailing.sendWindow ? `${mailing.sendWindow.from}–${mailing.sendWindow.to}, each client's local time` : 'any time of day'}</dd>
      </dl>

      <ProgressBar sent={stats.sent} failed={stats.failed} total={stats.total} label="sent" />
      <section className="figures" aria-label="messages by status">
        <Figure label="total" value={stats.total} />
        <Figure label="pending" value={stats.pending} tone="pending" />
        <Figure label="sent" value={stats.sent} tone="sent" />
        <Figure label="failed" value={stats.failed} tone="failed" />
        <Figure label="expired" value={stats.expired} />
        <Figure label="cancelled" value={stats.cancelled} />
      </section>
      <section className="figures" aria-label="pace">
        <Figure label="msg/s" value={progress ? progress.ratePerSecond.toFixed(1) : '—'} />
        <Figure label="ETA" value={final ? 'done' : duration(progress?.etaSeconds)} />
        <Figure label="at risk" value={progress?.atRisk ? 'yes' : 'no'} tone={progress?.atRisk ? 'failed' : undefined} />
      </section>
      {progress?.atRisk && (
        <p className="warning" role="status">
          At this rate, not every pending message will go before the end ({when(mailing.endAt)}).
        </p>
      )}

      <h2>Throughput</h2>
      <ThroughputChart samples={samples} />

      <h2>Failed messages</h2>
      {failures.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <Table className="failed" headers={['Message', 'Phone', 'Attempts', 'Last error']}>
          {failures.map((m) => (
            <tr key={m.id}>
              <td>{m.id}</td>
              <td>{m.client?.phone ?? `client ${m.clientId} (deleted)`}</td>
              <td>{m.attempts}</td>
              <td className="error-text">{m.lastError}</td>
            </tr>
          ))}
        </Table>
      )}
      {failures.length === FAILED_SHOWN && stats.failed > FAILED_SHOWN && <p className="muted">The first {FAILED_SHOWN} of {stats.failed}.</p>}
    </>
  );
}

function describeFilter(filter: { operatorCodes: string[]; tags: string[]; tagMatch: string }) {
  const parts = [];
  if (filter.operatorCodes.length) parts.push(`operator ${filter.operatorCodes.join(', ')}`);
  if (filter.tags.length) parts.push(`${filter.tagMatch === 'ALL' ? 'all' : 'any'} of the tags ${filter.tags.join(', ')}`);
  return parts.length ? parts.join('; ') : 'every client';
}

function MailingActions({ id, status }: { id: string; status: string }) {
  const { cache } = useApolloClient();
  const variables = { id };
  const [pause, paused] = useMutation(PAUSE_MAILING, { variables });
  const [resume, resumed] = useMutation(RESUME_MAILING, { variables });
  const [cancel, cancelled] = useMutation(CANCEL_MAILING, { variables });
  const [remove, removed] = useMutation(DELETE_MAILING, { variables });
  const [error, setError] = useState<string | null>(null);
  const busy = paused.loading || resumed.loading || cancelled.loading || removed.loading;

  async function act(run: () => Promise<unknown>) {
    setError(null);
    try {
      await run();
    } catch (e) {
      setError(Object.values(fieldErrorsOf(e)).join('; '));
    }
  }

  return (
    <div className="actions">
      {status !== 'COMPLETED' && status !== 'CANCELLED' && <Link to={`/mailings/${id}/edit`} className="button secondary">Edit</Link>}
      {status === 'RUNNING' && (
        <button disabled={busy} onClick={() => act(pause)}>
          Pause
        </button>
      )}
      {status === 'PAUSED' && (
        <button disabled={busy} onClick={() => act(resume)}>
          Resume
        </button>
      )}
      {status !== 'COMPLETED' && status !== 'CANCELLED' && (
        <button disabled={busy} className="danger" onClick={() => confirm('Cancel this mailing for good? Unsent messages become cancelled.') && act(cancel)}>
          Cancel
        </button>
      )}
      <button
        disabled={busy}
        className="danger"
        onClick={() =>
          confirm('Delete this mailing and all its messages?') &&
          act(async () => {
            await remove();
            cache.evict({ id: cache.identify({ __typename: 'Mailing', id }) });
            cache.gc();
            navigate('/mailings');
          })
        }
      >
        Delete
      </button>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
