import type { ReportMailing } from './report.store';

export type ComposedReport = { subject: string; text: string; html: string };

type Counts = ReportMailing['counts'];
// The statuses that partition the messages (their sum is the total); `sent` includes
// delivered and undelivered, which RECEIPTS shows beside it.
const COLUMNS = ['sent', 'failed', 'expired', 'cancelled', 'skipped', 'pending'] as const satisfies readonly (keyof Counts)[];
const RECEIPTS = ['delivered', 'undelivered'] as const satisfies readonly (keyof Counts)[];

/**
 * Send rate: of the messages that reached an end by going out or failing to (SENT, FAILED,
 * EXPIRED), the share a provider accepted. Skipped and cancelled messages were never meant to
 * go; pending ones have not ended. null when nothing ended.
 */
export function sendRate(c: Counts): number | null {
  const ended = c.sent + c.failed + c.expired;
  return ended === 0 ? null : c.sent / ended;
}

/** Delivery rate, as MessageStats.deliveryRate: delivered / (delivered + undelivered); null while no receipt came. */
export function deliveryRate(c: Counts): number | null {
  const receipted = c.delivered + c.undelivered;
  return receipted === 0 ? null : c.delivered / receipted;
}

export function totalsOf(mailings: readonly ReportMailing[]): Counts & { total: number } {
  const t = { pending: 0, sent: 0, failed: 0, expired: 0, cancelled: 0, skipped: 0, delivered: 0, undelivered: 0, total: 0 };
  for (const m of mailings) {
    for (const k of [...COLUMNS, ...RECEIPTS]) t[k] += m.counts[k];
  }
  t.total = COLUMNS.reduce((sum, k) => sum + t[k], 0);
  return t;
}

/** The statistics e-mail: the same figures as plain text and as HTML. Pure. */
export function composeReport(mailings: readonly ReportMailing[], since: Date, until: Date, timeZone: string): ComposedReport {
  const when = (d: Date) => d.toLocaleString('sv-SE', { timeZone, hour12: false }).slice(0, 16) + ` ${timeZone}`;
  const pct = (r: number | null) => (r === null ? '–' : `${(r * 100).toFixed(1)}%`);
  const totals = totalsOf(mailings);
  // Across mailings, by status and reason: "failed: 400: …" and "undelivered: UNDELIV err:034".
  const failures = new Map<string, number>();
  for (const m of mailings) for (const f of m.failures) failures.set(`${word(f.status)}: ${f.reason}`, (failures.get(`${word(f.status)}: ${f.reason}`) ?? 0) + f.count);
  const reasons = [...failures].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const label = (m: ReportMailing) => `#${m.id}${m.name ? ` ${m.name}` : ''}`;
  const subject = `Herald: ${mailings.length} mailing${mailings.length === 1 ? '' : 's'}, ${totals.sent} sent, ${totals.failed} failed (${when(since)} – ${when(until)})`;

  const text: string[] = [`Herald statistics from ${when(since)} to ${when(until)}`, ''];
  if (mailings.length === 0) text.push('No mailing ran in this period.');
  for (const m of mailings) {
    const total = COLUMNS.reduce((s, k) => s + m.counts[k], 0);
    text.push(`Mailing ${label(m)} (${m.status}): ${total} messages, send rate ${pct(sendRate(m.counts))}, delivery rate ${pct(deliveryRate(m.counts))}`);
    text.push(`  ${COLUMNS.map((k) => `${k} ${m.counts[k]}`).join(', ')}`);
    text.push(`  ${RECEIPTS.map((k) => `${k} ${m.counts[k]}`).join(', ')}`);
    for (const f of m.failures) text.push(`  ${word(f.status)}: ${f.count} × ${f.reason}`);
  }
  text.push(
    '',
    `Totals: ${totals.total} messages, send rate ${pct(sendRate(totals))}, delivery rate ${pct(deliveryRate(totals))}`,
    `  ${COLUMNS.map((k) => `${k} ${totals[k]}`).join(', ')}`,
    `  ${RECEIPTS.map((k) => `${k} ${totals[k]}`).join(', ')}`,
  );
  if (reasons.length) {
    text.push('', 'Failures by reason:');
    for (const [reason, n] of reasons) text.push(`  ${n} × ${reason}`);
  }

  const figures = (c: Counts) =>
    [...COLUMNS.map((k) => cell(c[k])), cell(pct(sendRate(c))), ...RECEIPTS.map((k) => cell(c[k])), cell(pct(deliveryRate(c)))].join('');
  const cell = (v: string | number) => `<td style="padding:2px 8px;border:1px solid #ccc">${esc(String(v))}</td>`;
  const head = ['Mailing', 'Status', ...COLUMNS, 'Send rate', ...RECEIPTS, 'Delivery rate'].map((h) => `<th style="padding:2px 8px;border:1px solid #ccc;text-align:left">${esc(h)}</th>`).join('');
  const body = mailings
    .map((m) => `<tr>${cell(label(m))}${cell(m.status)}${figures(m.counts)}</tr>`)
    .join('\n');
  const foot = `<tr style="font-weight:bold">${cell('Totals')}${cell('')}${figures(totals)}</tr>`;
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2>Herald statistics</h2><p>From ${esc(when(since))} to ${esc(when(until))}: ${mailings.length} mailing(s), ${totals.total} messages.</p>`,
    mailings.length === 0 ? '<p>No mailing ran in this period.</p>' : '',
    `<table style="border-collapse:collapse"><thead><tr>${head}</tr></thead><tbody>\n${body}\n${foot}</tbody></table>`,
    reasons.length ? `<h3>Failures by reason</h3><ul>${reasons.map(([r, n]) => `<li>${n} × ${esc(r)}</li>`).join('')}</ul>` : '',
    '</body></html>',
  ].join('\n');
  return { subject, text: text.join('\n') + '\n', html };
}

const word = (status: 'FAILED' | 'UNDELIVERED') => (status === 'FAILED' ? 'failed' : 'undelivered');

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
