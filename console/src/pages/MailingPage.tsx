import { useApolloClient, useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { Figure, MessageStatusBadge, ProgressBar, ReceiptFigures, SegmentsLine, StatusBadge, Table, ThroughputChart } from '../components';
import { messageOf } from '../errors';
import { count, duration, when } from '../format';
import type { ListedMessageFragment, MailingAction, MailingDetailsFragment, MessageStatus } from '../gql/graphql';
import { useThrottled } from '../hooks';
import { chartSamples } from '../throughput';
import {
  CANCEL_MAILING,
  CLIENTS_CHANGED,
  DELETE_MAILING,
  DUPLICATE_MAILING,
  FAILURE_REASONS,
  MAILING,
  MAILING_ESTIMATE,
  MAILING_PROGRESS,
  MAILINGS_CHANGED,
  MESSAGES_BY_STATUS,
  PAUSE_MAILING,
  RESUME_MAILING,
  RETRY_FAILED,
  THROUGHPUT,
} from '../operations';
import { Link, navigate } from '../router';
import { storedToken } from '../session';

// What MESSAGES_BY_STATUS asks for.
const LISTED = 50;

export function MailingPage({ id }: { id: string }) {
  const { data, loading, refetch } = useQuery(MAILING, { variables: { id } });
  // The chart: Herald's throughput buckets, read again (at most every 2 s) as the counts move
  // while the page is open, so the live chart and the one after a reload are the same data.
  const history = useQuery(THROUGHPUT, { variables: { id } });
  const rechart = useThrottled(() => void history.refetch(), 2_000);
  // Every event updates Mailing:<id> in the cache (the figures below); rate, ETA and risk
  // are the event's own.
  const { data: live } = useSubscription(MAILING_PROGRESS, { variables: { id } });
  const done = live?.mailingProgress ? live.mailingProgress.mailing.stats.sent + live.mailingProgress.mailing.stats.failed : undefined;
  const seenDone = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (done !== undefined && seenDone.current !== undefined && done !== seenDone.current) rechart();
    seenDone.current = done;
  }, [done, rechart]);
  const throughput = history.data?.mailing?.throughput;
  const samples = useMemo(() => (throughput ? chartSamples(throughput.bucketSeconds, throughput.points) : []), [throughput]);
  const mailing = data?.mailing;
  const failures = useListed(id, 'FAILED', mailing?.stats.failed);
  const skips = useListed(id, 'SKIPPED', mailing?.stats.skipped);
  const sent = useListed(id, 'SENT', mailing?.stats.awaitingReceipt);
  const delivered = useListed(id, 'DELIVERED', mailing?.stats.delivered);
  const undelivered = useListed(id, 'UNDELIVERED', mailing?.stats.undelivered);
  const reasons = useFailureReasons(id, mailing ? mailing.stats.failed + mailing.stats.undelivered + mailing.stats.expired : undefined);

  // Events carry the mailing's card (status, stats, text); what is derived from the rest
  // (segments after another operator's edit, the audience before the start as the directory
  // and its opt-outs change) is read again, at most once a second.
  // A scheduled mailing whose text has placeholders is estimated from its audience's real
  // values (mailingEstimate, as the form's preview does); 64 characters a placeholder is only
  // the worst case, shown beside it.
  const placeholders = mailing?.personalised ?? false;
  const filter = mailing ? { operatorCodes: mailing.filter.operatorCodes, tags: mailing.filter.tags, tagMatch: mailing.filter.tagMatch } : undefined;
  const estimate = useQuery(MAILING_ESTIMATE, {
    variables: { text: mailing?.text ?? '', filter: filter! },
    skip: !mailing || !placeholders || mailing.status !== 'SCHEDULED',
    fetchPolicy: 'cache-and-network',
  });
  const reread = useThrottled(() => {
    void refetch();
    if (placeholders && mailing?.status === 'SCHEDULED') void estimate.refetch();
  }, 1_000);
  useSubscription(MAILINGS_CHANGED, {
    onData: ({ data: event }) => {
      const change = event.data?.mailingsChanged;
      if (change?.mailingId === id && change.kind !== 'DELETED') reread();
    },
  });
  useSubscription(CLIENTS_CHANGED, { onData: reread, skip: mailing?.status !== 'SCHEDULED' });

  if (loading && !mailing) return null;
  if (!mailing) return <p>There is no mailing {id}.</p>;
  const progress = live?.mailingProgress;
  const { stats, status } = mailing;
  const final = status === 'COMPLETED' || status === 'CANCELLED';
  // Before its start, who its filter matches now; from its start, its audience (live).
  const audience = status === 'SCHEDULED' ? mailing.audienceSize : stats.total;

  return (
    <>
      <div className="page-head">
        <div className="title">
          <h1>{mailing.name ?? `Mailing ${mailing.id}`}</h1>
          {mailing.name && <span className="muted">mailing {mailing.id}</span>}
          <StatusBadge status={status} />
        </div>
        {mailing.actions.length > 0 && <MailingActions mailing={mailing} />}
        <ExportLink id={mailing.id} />
      </div>
      {mailing.pausedReason && (
        <p className="warning paused-reason" role="alert">
          <strong>It paused itself:</strong> {mailing.pausedReason}. It resumes only by hand{mailing.actions.includes('RESUME') ? ' (Resume)' : ''}, once the cause is dealt with.
        </p>
      )}
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
        <dt>Billed as</dt>
        <dd>
          <SegmentsLine segments={mailing.segments} />
        </dd>
        <dt>Audience</dt>
        <dd data-fact="audience">
          {count(audience)} {audience === 1 ? 'client' : 'clients'}
          <span className="muted">{status === 'SCHEDULED' ? ' matching now, opted-out phones left out' : ' fixed at its start'}</span>
        </dd>
        <dt>Estimated parts</dt>
        <dd data-fact="estimated parts">
          <EstimatedParts audience={audience} parts={mailing.segments.parts} placeholders={placeholders} estimate={status === 'SCHEDULED' ? (estimate.data ?? estimate.previousData)?.mailingEstimate : undefined} />
        </dd>
        <dt>Frequency cap</dt>
        <dd data-fact="frequency cap">{mailing.frequencyCap ? `at most ${mailing.frequencyCap} to a client, across mailings` : 'none'}</dd>
        <dt>Pauses itself</dt>
        <dd>
          {mailing.maxFailureRate >= 1 ? 'never (its max failure rate is 100%)' : `when more than ${Math.round(mailing.maxFailureRate * 100)}% of its last 200 results failed`}
        </dd>
      </dl>

      <ProgressBar sent={stats.sent} failed={stats.failed} total={stats.total} label="sent" />
      <section className="figures" aria-label="messages by status">
        <Figure label="total" value={stats.total} />
        <Figure label="pending" value={stats.pending} tone="pending" />
        <Figure label="sent" value={stats.sent} tone="sent" />
        <Figure label="failed" value={stats.failed} tone="failed" />
        <Figure label="expired" value={stats.expired} />
        <Figure label="cancelled" value={stats.cancelled} />
        <Figure label="skipped" value={stats.skipped} />
      </section>
      <ReceiptFigures stats={stats} />
      {mailing.messagesRetained ? (
        <p className="browse-link"><Link to={`/mailings/${mailing.id}/messages`} className="button secondary">Browse its messages</Link></p>
      ) : (
        <p className="muted retention-note" role="status">Its messages were removed by the retention; these figures stay.</p>
      )}
      {/* A paused mailing has no pace (Herald sends no rate, ETA or risk for it): who paused it, and when. */}
      {mailing.pausedBy ? (
        <p className="paused-by" data-paused-by={mailing.pausedBy}>
          Paused by <strong>{mailing.pausedBy}</strong>
          {mailing.pausedAt && <> at {when(mailing.pausedAt)}</>}.
        </p>
      ) : (
        <section className="figures" aria-label="pace">
          <Figure label="msg/s" value={progress ? progress.ratePerSecond.toFixed(1) : '—'} />
          <Figure label="ETA" value={final ? 'done' : duration(progress?.etaSeconds)} />
          <Figure label="at risk" value={progress?.atRisk ? 'yes' : 'no'} tone={progress?.atRisk ? 'failed' : undefined} />
        </section>
      )}
      {progress?.atRisk && !mailing.pausedBy && (
        <p className="warning" role="status">
          At this rate, not every pending message will go before the end ({when(mailing.endAt)}).
        </p>
      )}

      <h2>Throughput</h2>
      {/* The span drawn, for a look (and the tests): its first and last instants. */}
      <div className="throughput" data-from={samples[0]?.at} data-to={samples.at(-1)?.at} data-points={samples.length}>
        <ThroughputChart samples={samples} />
      </div>

      <h2>Failure reasons</h2>
      <FailureReasons mailingId={mailing.id} reasons={reasons} />

      <h2>Failed messages</h2>
      <MessageList className="failed" messages={failures} total={stats.failed} personalised={mailing.personalised} />
      {(stats.skipped > 0 || skips.length > 0) && (
        <>
          <h2>Skipped messages</h2>
          <MessageList className="skipped" messages={skips} total={stats.skipped} personalised={false} />
        </>
      )}
      {(stats.undelivered > 0 || undelivered.length > 0) && (
        <>
          <h2>Undelivered messages</h2>
          <MessageList className="undelivered" messages={undelivered} total={stats.undelivered} personalised={false} />
        </>
      )}
      {(stats.delivered > 0 || delivered.length > 0) && (
        <>
          <h2>Delivered messages</h2>
          <MessageList className="delivered" messages={delivered} total={stats.delivered} personalised={false} />
        </>
      )}
      {(stats.awaitingReceipt > 0 || sent.length > 0) && (
        <>
          <h2>Sent messages, awaiting a receipt</h2>
          <MessageList className="sent" messages={sent} total={stats.awaitingReceipt} personalised={false} />
        </>
      )}
    </>
  );
}

/** The first messages of a status, read again when the live count of them changes. */
function useListed(id: string, status: MessageStatus, live: number | undefined): ListedMessageFragment[] {
  const { data, refetch } = useQuery(MESSAGES_BY_STATUS, { variables: { id, status } });
  const reread = useThrottled(() => void refetch(), 2_000);
  const seen = useRef<number | null>(null);
  useEffect(() => {
    if (live === undefined) return;
    if (seen.current !== null && live !== seen.current) reread();
    seen.current = live;
  }, [live, reread]);
  return data?.mailing?.messages.edges.map((e) => e.node) ?? [];
}

/** A mailing's failure reasons, most frequent first, read again (at most every 2 s) as the failures' count moves. */
function useFailureReasons(id: string, live: number | undefined) {
  const { data, refetch } = useQuery(FAILURE_REASONS, { variables: { id } });
  const reread = useThrottled(() => void refetch(), 2_000);
  const seen = useRef<number | null>(null);
  useEffect(() => {
    if (live === undefined) return;
    if (seen.current !== null && live !== seen.current) reread();
    seen.current = live;
  }, [live, reread]);
  return data?.mailing?.failureReasons ?? [];
}

/** "undelivered  UNDELIV err:034 × 120": failed, undelivered and expired messages by reason. */
function FailureReasons({ mailingId, reasons }: { mailingId: string; reasons: { status: MessageStatus; reason: string; count: number }[] }) {
  if (reasons.length === 0) return <p className="muted">None.</p>;
  return (
    <ul className="failure-reasons" aria-label="failure reasons">
      {reasons.map((r) => (
        <li key={`${r.status} ${r.reason}`} data-reason={r.reason} data-status={r.status}>
          <MessageStatusBadge status={r.status} />
          {/* Each reason opens the messages behind it: the browser narrowed by its status and reason. */}
          <Link to={`/mailings/${mailingId}/messages?${new URLSearchParams({ status: r.status, reason: r.reason })}`} className="reason">{r.reason}</Link>
          <span className="times">× {count(r.count)}</span>
        </li>
      ))}
    </ul>
  );
}

type Listed = 'failed' | 'skipped' | 'sent' | 'delivered' | 'undelivered';

/**
 * Failed, skipped, sent, delivered or undelivered messages, each with its status, the
 * provider that took it (its id there as the cell's title); a personalised text's failures
 * show the text each went out with; receipted ones when the receipt says it happened.
 */
function MessageList({ className, messages, total, personalised }: { className: Listed; messages: ListedMessageFragment[]; total: number; personalised: boolean }) {
  if (messages.length === 0) return <p className="muted">None.</p>;
  const columns: Record<Listed, string[]> = {
    skipped: ['Why'],
    sent: ['Sent at'],
    delivered: ['Sent at', 'Delivered at'],
    undelivered: ['Sent at', 'Receipt at', 'Receipt'],
    failed: ['Attempts', 'Last error', ...(personalised ? ['Text sent'] : [])],
  };
  return (
    <>
      {/* On a phone the table scrolls sideways inside its box; the page keeps the screen's width. */}
      <div className="table-scroll">
      <Table className={`messages ${className}`} headers={['Message', 'Status', 'Phone', 'Provider', ...columns[className]]}>
        {messages.map((m) => (
          <tr key={m.id} data-message={m.id}>
            <td>{m.id}</td>
            <td>
              <MessageStatusBadge status={m.status} />
            </td>
            <td>{m.client?.phone ?? `client ${m.clientId} (deleted)`}</td>
            <td className="provider-cell" title={m.providerMessageId ? `its id at ${m.provider}: ${m.providerMessageId}` : undefined}>
              {m.provider ?? '—'}
            </td>
            {className === 'skipped' && <td>{m.lastError}</td>}
            {className !== 'skipped' && className !== 'failed' && <td className="nowrap">{m.sentAt ? when(m.sentAt) : ''}</td>}
            {(className === 'delivered' || className === 'undelivered') && <td className="nowrap delivered-at">{m.deliveredAt ? when(m.deliveredAt) : ''}</td>}
            {className === 'undelivered' && <td className="error-text">{m.lastError}</td>}
            {className === 'failed' && (
              <>
                <td>{m.attempts}</td>
                <td className="error-text">{m.lastError}</td>
                {personalised && <td className="text-cell">{m.text ?? ''}</td>}
              </>
            )}
          </tr>
        ))}
      </Table>
      </div>
      {messages.length === LISTED && total > LISTED && (
        <p className="muted">
          The first {LISTED} of {count(total)}.
        </p>
      )}
    </>
  );
}

function describeFilter(filter: { operatorCodes: string[]; tags: string[]; tagMatch: string }) {
  const parts = [];
  if (filter.operatorCodes.length) parts.push(`operator ${filter.operatorCodes.join(', ')}`);
  if (filter.tags.length) parts.push(`${filter.tagMatch === 'ALL' ? 'all' : 'any'} of the tags ${filter.tags.join(', ')}`);
  return parts.length ? parts.join('; ') : 'every client';
}

/**
 * The messages as CSV. The token lives in session storage, never in a URL, so a click fetches
 * the file with the Authorization header and saves it from memory (a million messages are
 * some 70 MB); the href stays the real address, for curl.
 */
function ExportLink({ id }: { id: string }) {
  const [state, setState] = useState<'idle' | 'busy' | string>('idle');
  const href = `/mailings/${encodeURIComponent(id)}/messages.csv`;
  async function download(event: MouseEvent) {
    event.preventDefault();
    setState('busy');
    try {
      const res = await fetch(href, { headers: { authorization: `Bearer ${storedToken() ?? ''}` } });
      if (!res.ok) throw new Error(`Herald answered ${res.status}`);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `mailing-${id}-messages.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setState('idle');
    } catch (e) {
      setState(e instanceof Error ? e.message : 'the export failed');
    }
  }
  return (
    <div className="actions">
      <a className="button secondary" href={href} onClick={download} aria-busy={state === 'busy'}>
        {state === 'busy' ? 'Exporting…' : 'Export CSV'}
      </a>
      {state !== 'idle' && state !== 'busy' && (
        <p className="field-error" role="alert">
          {state}
        </p>
      )}
    </div>
  );
}

function MailingActions({ mailing }: { mailing: MailingDetailsFragment }) {
  const { id } = mailing;
  // What Herald says may be done with it now (for this token): only those buttons show.
  const may = (action: MailingAction) => mailing.actions.includes(action);
  const { cache } = useApolloClient();
  const variables = { id };
  const [pause, paused] = useMutation(PAUSE_MAILING, { variables });
  const [resume, resumed] = useMutation(RESUME_MAILING, { variables });
  const [cancel, cancelled] = useMutation(CANCEL_MAILING, { variables });
  const [remove, removed] = useMutation(DELETE_MAILING, { variables });
  const [retry, retried] = useMutation(RETRY_FAILED, { variables });
  const [duplicate, duplicated] = useMutation(DUPLICATE_MAILING, { variables });
  const [error, setError] = useState<string | null>(null);
  const busy = paused.loading || resumed.loading || cancelled.loading || removed.loading || retried.loading || duplicated.loading;

  async function act(run: () => Promise<unknown>) {
    setError(null);
    try {
      await run();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <div className="actions">
      {may('EDIT') && <Link to={`/mailings/${id}/edit`} className="button secondary">Edit</Link>}
      {may('PAUSE') && (
        <button disabled={busy} onClick={() => act(pause)}>
          Pause
        </button>
      )}
      {may('RESUME') && (
        <button disabled={busy} onClick={() => act(resume)}>
          Resume
        </button>
      )}
      {may('RETRY_FAILED') && (
        <button
          disabled={busy}
          className="secondary"
          onClick={() => confirm(`Send the ${mailing.stats.failed} failed messages once more?`) && act(retry)}
        >
          Retry failed
        </button>
      )}
      {may('DUPLICATE') && (
        <button
          disabled={busy}
          className="secondary"
          onClick={() =>
            act(async () => {
              const result = await duplicate();
              navigate(`/mailings/${result.data!.duplicateMailing.id}`);
            })
          }
        >
          Duplicate
        </button>
      )}
      {may('CANCEL') && (
        <button disabled={busy} className="danger" onClick={() => confirm('Cancel this mailing for good? Unsent messages become cancelled.') && act(cancel)}>
          Cancel
        </button>
      )}
      {may('DELETE') && (
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
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

type Estimate = { parts: number; typicalParts: number; longestParts: number; worstCaseParts: number; audience: number };

/** Parts billed: exact without placeholders; with them, from the audience's real values before the start, else the worst case. */
function EstimatedParts({ audience, parts, placeholders, estimate }: { audience: number; parts: number; placeholders: boolean; estimate?: Estimate }) {
  if (!placeholders)
    return (
      <>
        {count(audience * parts)} SMS parts<span className="muted"> ({parts} a message)</span>
      </>
    );
  if (estimate)
    return (
      <span data-parts={estimate.parts} data-worst={audience * parts}>
        ≈ {count(estimate.parts)} SMS parts
        <span className="muted">
          {' '}
          (typically {estimate.typicalParts} a message, the longest {estimate.longestParts}) · worst case {count(audience * parts)}, every placeholder at its longest
        </span>
      </span>
    );
  return (
    <>
      at most {count(audience * parts)} SMS parts<span className="muted"> ({parts} a message, every placeholder at its longest)</span>
    </>
  );
}
