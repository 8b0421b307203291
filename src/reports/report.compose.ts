import type { ReportMailing } from './report.store';

export type ComposedReport = { subject: string; text: string; html: string };

type Counts = ReportMailing['counts'];
const COLUMNS: (keyof Counts)[] = ['sent', 'failed', 'expired', 'cancelled', 'skipped', 'pending'];

/**
 * Delivery rate: of the messages that reached an end by going out or failing to (SENT,
 * FAILED, EXPIRED), the share SENT. Skipped and cancelled messages were never meant to go;
 * pending ones have not ended. null when nothing ended.
 */
export function deliveryRate(c: Counts): number | null {
  const ended = c.sent + c.failed + c.expired;
  return ended === 0 ? null : c.sent / ended;
}

export function totalsOf(mailings: readonly ReportMailing[]): Counts & { total: number } {
  const t = { pending: 0, sent: 0, failed: 0, expired: 0, cancelled: 0, skipped: 0, total: 0 };
  for (const m of mailings) {
    for (const k of COLUMNS) t[k] += m.counts[k];
  }
  t.total = COLUMNS.reduce((sum, k) => sum + t[k], 0);
  return t;
}

/** The statistics e-mail: the same figures as plain text and as HTML. Pure. */
export function composeReport(mailings: readonly ReportMailing[], since: Date, until: Date, timeZone: string): ComposedReport {
  const when = (d: Date) => d.toLocaleString('sv-SE', { timeZone, hour12: false }).slice(0, 16) + ` ${timeZone}`;
  const pct = (r: number | null) => (r === null ? '–' : `${(r * 100).toFixed(1)}%`);
  const totals = totalsOf(mailings);
  const failures = new Map<string, number>();
  for (const m of mailings) for (const f of m.failures) failures.set(f.reason, (failures.get(f.reason) ?? 0) + f.count);
  const reasons = [...failures].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const label = (m: ReportMailing) => `#${m.id}${m.name ? ` ${m.name}` : ''}`;
  const subject = `Herald: ${mailings.length} mailing${mailings.length === 1 ? '' : 's'}, ${totals.sent} sent, ${totals.failed} failed (${when(since)} – ${when(until)})`;

  const text: string[] = [`Herald statistics from ${when(since)} to ${when(until)}`, ''];
  if (mailings.length === 0) text.push('No mailing ran in this period.');
  for (const m of mailings) {
    const total = COLUMNS.reduce((s, k) => s + m.counts[k], 0);
    text.push(`Mailing ${label(m)} (${m.status}): ${total} messages, delivery rate ${pct(deliveryRate(m.counts))}`);
    text.push(`  ${COLUMNS.map((k) => `${k} ${m.counts[k]}`).join(', ')}`);
    for (const f of m.failures) text.push(`  failed: ${f.count} × ${f.reason}`);
  }
  text.push('', `Totals: ${totals.total} messages, delivery rate ${pct(deliveryRate(totals))}`, `  ${COLUMNS.map((k) => `${k} ${totals[k]}`).join(', ')}`);
  if (reasons.length) {
    text.push('', 'Failures by reason:');
    for (const [reason, n] of reasons) text.push(`  ${n} × ${reason}`);
  }

  const cell = (v: string | number) => `<td style="padding:2px 8px;border:1px solid #ccc">${esc(String(v))}</td>`;
  const head = ['Mailing', 'Status', ...COLUMNS, 'Delivery rate'].map((h) => `<th style="padding:2px 8px;border:1px solid #ccc;text-align:left">${esc(h)}</th>`).join('');
  const body = mailings
    .map((m) => `<tr>${cell(label(m))}${cell(m.status)}${COLUMNS.map((k) => cell(m.counts[k])).join('')}${cell(pct(deliveryRate(m.counts)))}</tr>`)
    .join('\n');
  const foot = `<tr style="font-weight:bold">${cell('Totals')}${cell('')}${COLUMNS.map((k) => cell(totals[k])).join('')}${cell(pct(deliveryRate(totals)))}</tr>`;
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

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
