import { sql, type SQL } from 'drizzle-orm';
import type { ClientFilter } from '../clients/client.filter';
import type { FrequencyCap } from './frequency-cap';
import type { mailings, MailingRow } from './mailing.table';
import { formatTimeOfDay, type SendWindow } from './send-window';

/**
 * A mailing's settings as values, the one place its column groups are mapped: the filter
 * (three columns), the send window (two, both null or neither), the frequency cap (two,
 * likewise). Reads go row → values, writes values → columns; nothing else reads or writes
 * these columns by name.
 */
export type MailingValues = {
  name: string | null;
  text: string;
  startAt: Date;
  endAt: Date;
  filter: ClientFilter;
  sendWindow: SendWindow | null;
  /** its own cap; null: the configured one (campaign.rules.ts capOf) */
  frequencyCap: FrequencyCap | null;
  /** its own threshold; null: MAX_FAILURE_RATE */
  maxFailureRate: number | null;
};

/**
 * The columns the groups are read from, under the names a drizzle row gives them. A raw SQL
 * read selects them with `mailingColumnsSql` (or a part of them by hand, with these names),
 * so its rows go through the same functions as drizzle's.
 */
export type MailingColumns = Pick<
  MailingRow,
  'filterOperatorCodes' | 'filterTags' | 'filterTagMatch' | 'sendWindowFrom' | 'sendWindowTo' | 'frequencyCapCount' | 'frequencyCapWindowS'
>;

/**
 * `send_window_from as "sendWindowFrom", …` for a raw select of the mailings table (under
 * `alias`, if the query names it): its rows are MailingColumns.
 */
export function mailingColumnsSql(alias?: string): SQL {
  const t = alias ? `${alias}.` : '';
  return sql.raw(
    `${t}filter_operator_codes as "filterOperatorCodes", ${t}filter_tags as "filterTags", ${t}filter_tag_match as "filterTagMatch", ` +
      `${t}send_window_from as "sendWindowFrom", ${t}send_window_to as "sendWindowTo", ` +
      `${t}frequency_cap_count as "frequencyCapCount", ${t}frequency_cap_window_s as "frequencyCapWindowS"`,
  );
}

export function filterOf(c: Pick<MailingColumns, 'filterOperatorCodes' | 'filterTags' | 'filterTagMatch'>): ClientFilter {
  return { operatorCodes: c.filterOperatorCodes, tags: c.filterTags, tagMatch: c.filterTagMatch };
}

export function sendWindowOf(c: Pick<MailingColumns, 'sendWindowFrom' | 'sendWindowTo'>): SendWindow | null {
  return c.sendWindowFrom === null || c.sendWindowTo === null ? null : { fromMinute: c.sendWindowFrom, toMinute: c.sendWindowTo };
}

/** The mailing's own cap, null when it has none. */
export function frequencyCapOf(c: Pick<MailingColumns, 'frequencyCapCount' | 'frequencyCapWindowS'>): FrequencyCap | null {
  return c.frequencyCapCount === null || c.frequencyCapWindowS === null ? null : { count: c.frequencyCapCount, windowS: c.frequencyCapWindowS };
}

/** A whole row's values. */
export function mailingValuesOf(row: MailingRow): MailingValues {
  return {
    name: row.name,
    text: row.text,
    startAt: row.startAt,
    endAt: row.endAt,
    filter: filterOf(row),
    sendWindow: sendWindowOf(row),
    frequencyCap: frequencyCapOf(row),
    maxFailureRate: row.maxFailureRate,
  };
}

type MailingInsert = typeof mailings.$inferInsert;

/** The columns to write for these values: an absent value writes nothing, a null clears its group. */
export function columnsOf(values: MailingValues): MailingInsert;
export function columnsOf(values: Partial<MailingValues>): Partial<MailingInsert>;
export function columnsOf(values: Partial<MailingValues>): Partial<MailingInsert> {
  const columns: Partial<MailingInsert> = {};
  if (values.name !== undefined) columns.name = values.name;
  if (values.text !== undefined) columns.text = values.text;
  if (values.startAt !== undefined) columns.startAt = values.startAt;
  if (values.endAt !== undefined) columns.endAt = values.endAt;
  if (values.filter !== undefined) {
    columns.filterOperatorCodes = values.filter.operatorCodes;
    columns.filterTags = values.filter.tags;
    columns.filterTagMatch = values.filter.tagMatch;
  }
  if (values.sendWindow !== undefined) {
    columns.sendWindowFrom = values.sendWindow?.fromMinute ?? null;
    columns.sendWindowTo = values.sendWindow?.toMinute ?? null;
  }
  if (values.frequencyCap !== undefined) {
    columns.frequencyCapCount = values.frequencyCap?.count ?? null;
    columns.frequencyCapWindowS = values.frequencyCap?.windowS ?? null;
  }
  if (values.maxFailureRate !== undefined) columns.maxFailureRate = values.maxFailureRate;
  return columns;
}

/** The same clients: the same operator codes and tags (in any order) and the same match. */
export function sameFilter(a: ClientFilter, b: ClientFilter): boolean {
  return sameItems(a.operatorCodes, b.operatorCodes) && sameItems(a.tags, b.tags) && a.tagMatch === b.tagMatch;
}

/** The window as the API shows it, "HH:MM" each. */
export function formatSendWindow(window: SendWindow): { from: string; to: string } {
  return { from: formatTimeOfDay(window.fromMinute), to: formatTimeOfDay(window.toMinute) };
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}
