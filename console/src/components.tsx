import type { ReactNode } from 'react';
import { FieldError, hasError, type FieldErrors } from './errors';
import { clock, count, percent, rate } from './format';
import type { MailingStatus, MessageStatus } from './gql/graphql';
import type { Pages } from './hooks';
import type { SmsEncoding } from './gql/graphql';

/** `sent/total` as text and as a bar; failed messages show as their own part of it. */
export function ProgressBar({ sent, failed, total, label }: { sent: number; failed: number; total: number; label: string }) {
  return (
    <div className="progress">
      <div className="progress-track" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={total} aria-valuenow={sent}>
        <div className="progress-sent" style={{ width: `${percent(sent, total)}%` }} />
        <div className="progress-failed" style={{ width: `${percent(failed, total)}%` }} />
      </div>
      <span className="progress-text">
        {count(sent)}/{count(total)}
      </span>
    </div>
  );
}

export function StatusBadge({ status }: { status: MailingStatus }) {
  return <span className={`badge badge-${status.toLowerCase()}`}>{status.toLowerCase()}</span>;
}

export function MessageStatusBadge({ status }: { status: MessageStatus }) {
  return <span className={`badge badge-message badge-message-${status.toLowerCase()}`}>{status.toLowerCase()}</span>;
}

type ReceiptCounts = { sent: number; delivered: number; undelivered: number; awaitingReceipt: number; deliveryRate?: number | null };

/**
 * What the receipts said of the sent messages: delivered, undelivered, the delivery rate ("—"
 * while no receipt came) and those still awaiting one (a provider that never sends receipts
 * leaves them there).
 */
export function ReceiptFigures({ stats }: { stats: ReceiptCounts }) {
  return (
    <section className="figures figures-receipts" aria-label="receipts">
      <Figure label="delivered" value={stats.delivered} tone="sent" />
      <Figure label="undelivered" value={stats.undelivered} tone="failed" />
      <Figure label="delivery rate" value={rate(stats.deliveryRate)} tone="rate" />
      <Figure label="awaiting receipt" value={stats.awaitingReceipt} tone="pending" />
    </section>
  );
}

export function Figure({ label, value, tone }: { label: string; value: number | string; tone?: string }) {
  return (
    <div className={`figure ${tone ? `figure-${tone}` : ''}`} data-figure={label}>
      <span className="figure-value">{typeof value === 'number' ? count(value) : value}</span>
      <span className="figure-label">{label}</span>
    </div>
  );
}

export type Sample = { at: number; rate: number };

/** Messages per second over time, as an SVG line. */
export function ThroughputChart({ samples }: { samples: Sample[] }) {
  const width = 640;
  const height = 160;
  if (samples.length < 2) {
    return <div className="chart chart-empty">The chart fills in as the mailing sends.</div>;
  }
  const t0 = samples[0].at;
  const span = Math.max(1, samples.at(-1)!.at - t0);
  const top = Math.max(1, ...samples.map((s) => s.rate)) * 1.1;
  const points = samples.map((s) => `${((s.at - t0) / span) * width},${height - (s.rate / top) * height}`).join(' ');
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label="throughput over time">
        <polyline points={`0,${height} ${points} ${width},${height}`} className="chart-area" />
        <polyline points={points} className="chart-line" />
      </svg>
      <figcaption>
        <span>{clock(t0)}</span>
        <span>peak {Math.round(top / 1.1)} msg/s</span>
        <span>{clock(samples.at(-1)!.at)}</span>
      </figcaption>
    </figure>
  );
}

/** A labelled text input with the API's error about `field` under it (and marked aria-invalid); `list` names a <datalist> of suggestions. */
export function TextField(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  errors: FieldErrors;
  field: string;
  placeholder?: string;
  list?: string;
  inputMode?: 'tel' | 'text';
  hint?: ReactNode;
}) {
  return (
    <label>
      {props.label}
      <input
        value={props.value}
        placeholder={props.placeholder}
        list={props.list}
        inputMode={props.inputMode}
        autoComplete={props.list ? 'off' : undefined}
        aria-invalid={hasError(props.errors, props.field) || undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
      {props.hint}
      <FieldError errors={props.errors} fields={[props.field]} />
    </label>
  );
}

/** Previous and Next over a Relay connection's pages, with a summary on the left. */
export function Pager({ pages, pageInfo, children }: { pages: Pages; pageInfo: { hasNextPage: boolean; endCursor?: string | null }; children: ReactNode }) {
  return (
    <nav className="pager">
      <span className="muted">{children}</span>
      <button className="secondary" disabled={pages.page === 1} onClick={pages.previous}>
        Previous
      </button>
      <button className="secondary" disabled={!pageInfo.hasNextPage} onClick={() => pages.next(pageInfo.endCursor)}>
        Next
      </button>
    </nav>
  );
}

export function Table({ className, headers, children }: { className: string; headers: string[]; children: ReactNode }) {
  return (
    <table className={className}>
      <thead>
        <tr>
          {headers.map((h) => (
            <th key={h}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** "GSM-7 · 22 characters · 1 SMS part · 138 left in it": how a text is billed. */
type Segments = { encoding: SmsEncoding; characters: number; parts: number; charactersLeft: number };

const encodingName = (encoding: SmsEncoding) => (encoding === 'GSM_7' ? 'GSM-7' : 'UCS-2');

/** How a text is billed, as Herald measured it. */
export function SegmentsLine({ segments, live }: { segments: Segments; live?: boolean }) {
  const { encoding, characters, parts } = segments;
  return (
    <p className={`segments segments-${encoding.toLowerCase()}`} aria-live={live ? 'polite' : undefined} data-encoding={encoding} data-parts={parts}>
      <span className="encoding">{encodingName(encoding)}</span> · {count(characters)} characters · {count(parts)} SMS {parts === 1 ? 'part' : 'parts'}
      {live && parts > 0 && <span className="muted"> · {count(segments.charactersLeft)} left before the next part</span>}
    </p>
  );
}

/** What a viewer sees where a page would write (a form, a create button's page): nothing to change here. */
export function ReadOnlyNotice({ children }: { children: ReactNode }) {
  return (
    <p className="notice" role="note">
      {children}
    </p>
  );
}
