/**
 * The clients CSV, read the same way by `npm run import` (scripts/import.ts, a line at a
 * time from a stream) and by the console's import (console/src/pages/ImportPanel.tsx, the
 * whole file): a header row naming the columns (phone, operatorCode or operator_code, tags,
 * timezone, and optionally name and attributes; any order, case-insensitive), then one client
 * a line. Tags within their field are separated by ';', attributes are `key=value` pairs
 * separated by ';'. Fields may be quoted ("…", with "" for a quote, spaces around the quotes
 * ignored); a field does not span lines, so every problem is one line's, reported with its
 * number. Herald judges the values (importClients).
 *
 * The console bundles this file: it must stay pure, importing nothing but common/phone.ts,
 * which imports nothing (a unit test checks).
 */
import { russianMobileOf } from '../common/phone';

export type CsvClient = { phone: string; operatorCode?: string; tags?: string[]; timezone: string; name?: string; attributes?: Record<string, string> };
/** A line's client (with `typedPhone`, the phone as the file wrote it, when it was rewritten as 7XXXXXXXXXX), or its problem. */
export type CsvRow = { line: number; client: CsvClient; typedPhone?: string } | { line: number; problem: string };
type Column = keyof CsvClient;

/**
 * The most clients one importClients call takes; `npm run import` and the console send
 * batches of exactly this many.
 */
export const MAX_IMPORT_ROWS = 10_000;

const COLUMN_NAMES: Record<string, Column> = {
  phone: 'phone',
  operatorcode: 'operatorCode',
  operator_code: 'operatorCode',
  tags: 'tags',
  timezone: 'timezone',
  name: 'name',
  attributes: 'attributes',
};

/** Line ends as node:readline splits them (`npm run import` reads through it): \r\n, \n or a lone \r. */
const LINE_END = /\r?\n|\r/;

/**
 * Reads a clients CSV one line at a time, counting lines from 1: the header first, then
 * each data line to its client or its problem. `npm run import` feeds it a stream's lines;
 * parseClientsCsv a whole file's.
 */
export class ClientsCsvReader {
  private columns: (Column | null)[] | undefined;
  private lineNo = 0;

  /** The next line's client or problem; null for the header and blank lines. Throws when the header lacks a required column. */
  read(text: string): CsvRow | null {
    const line = ++this.lineNo;
    if (!this.columns) {
      this.columns = csvColumns(text);
      return null;
    }
    if (text.trim() === '') return null;
    const parsed = parseCsvClient(text, this.columns);
    if (typeof parsed === 'string') return { line, problem: parsed };
    // A phone as people write it (+7 916 555-44-33, 8 (916) 555-44-33) goes in as Herald keeps
    // it; importClients, like createClient, takes only 7XXXXXXXXXX.
    const phone = normalizeTypedPhone(parsed.phone);
    return phone === parsed.phone ? { line, client: parsed } : { line, client: { ...parsed, phone }, typedPhone: parsed.phone };
  }
}

/**
 * A Russian mobile number as people type it, in the form Herald keeps (7 and 10 digits):
 * `+7 916 555-44-33`, `8 (916) 555-44-33`, `89165554433` and `9165554433` become
 * `79165554433`. Anything else is returned as given, for Herald to refuse in its own words.
 * The console's client form uses it too.
 */
export function normalizeTypedPhone(typed: string): string {
  return russianMobileOf(typed, { tenDigits: true }) ?? typed.trim();
}

/**
 * The value a refusal's field names (`phone`, `tags[1]`, `attributes.city`) in a row, as the
 * file wrote it; undefined when the row has none.
 */
export function csvValueOf(row: { client: CsvClient; typedPhone?: string }, field: string | null | undefined): string | undefined {
  if (!field) return undefined;
  const [base, key] = field.replace(/\[\d+\]$/, '').split('.');
  const value: unknown = base === 'phone' ? (row.typedPhone ?? row.client.phone) : (row.client as Record<string, unknown>)[base];
  const shown = key !== undefined && value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : Array.isArray(value) ? value.join(';') : value;
  return typeof shown === 'string' ? shown : undefined;
}

/** A whole file's lines, split as parseClientsCsv (and node:readline) split them. */
export const csvLines = (text: string): string[] => text.split(LINE_END);

/** Every data line of a whole file as a client or as the problem it has; throws for a bad header. */
export function parseClientsCsv(text: string): CsvRow[] {
  const reader = new ClientsCsvReader();
  const rows: CsvRow[] = [];
  for (const line of csvLines(text)) {
    const row = reader.read(line);
    if (row) rows.push(row);
  }
  return rows;
}

/** Maps the header to columns (null for a column Herald does not read); throws when a required column is missing. */
export function csvColumns(header: string): (Column | null)[] {
  const names = splitCsvLine(header.replace(/^\uFEFF/, ''));
  if (typeof names === 'string') throw new Error(`the header: ${names}`);
  const columns = names.map((name) => COLUMN_NAMES[name.trim().toLowerCase()] ?? null);
  for (const required of ['phone', 'timezone'] as const) {
    if (!columns.includes(required)) throw new Error(`the header names no "${required}" column`);
  }
  return columns;
}

// A control character (tab aside, a field separator some tools write) in a line is that
// line's problem alone: reported with its line, never sent to spoil a batch.
const CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F]/;

/** One data line as a client, or the line's problem. */
export function parseCsvClient(line: string, columns: (Column | null)[]): CsvClient | string {
  const control = CONTROL.exec(line);
  if (control) return `holds a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}) at column ${control.index + 1}`;
  const fields = splitCsvLine(line);
  if (typeof fields === 'string') return fields;
  if (fields.length !== columns.length) return `expected ${columns.length} fields, found ${fields.length}`;
  const client: CsvClient = { phone: '', timezone: '' };
  let problem: string | null = null;
  columns.forEach((column, i) => {
    const value = fields[i].trim();
    if (column === 'tags') client.tags = value === '' ? [] : value.split(';');
    else if (column === 'operatorCode') client.operatorCode = value === '' ? undefined : value;
    else if (column === 'name') client.name = value === '' ? undefined : value;
    else if (column === 'attributes') {
      const attributes = parseAttributes(value);
      if (typeof attributes === 'string') problem = attributes;
      else client.attributes = attributes;
    } else if (column) client[column] = value;
  });
  return problem ?? client;
}

const BLANK = /[ \t]/;

/**
 * The fields of one line, or what is wrong with its quoting. A field is quoted when its
 * first character other than spaces is '"'; inside, "" is a quote and a comma is text. A
 * quote that is not closed on its line, or text after a closing quote, is the line's problem:
 * guessing there would put values in the wrong columns. A '"' inside an unquoted field is text.
 */
export function splitCsvLine(line: string): string[] | string {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    let start = at;
    while (BLANK.test(line[start] ?? '')) start++;
    let end: number;
    if (line[start] === '"') {
      let value = '';
      let from = start + 1;
      for (;;) {
        const quote = line.indexOf('"', from);
        if (quote < 0) return `field ${fields.length + 1} opens a quote it does not close (a field does not span lines)`;
        value += line.slice(from, quote);
        if (line[quote + 1] !== '"') {
          end = quote + 1;
          break;
        }
        value += '"';
        from = quote + 2;
      }
      while (BLANK.test(line[end] ?? '')) end++;
      if (end < line.length && line[end] !== ',') return `field ${fields.length + 1} has text after its closing quote`;
      fields.push(value);
    } else {
      const comma = line.indexOf(',', at);
      end = comma < 0 ? line.length : comma;
      fields.push(line.slice(at, end));
    }
    if (end >= line.length) return fields;
    at = end + 1;
  }
}

/** `city=Kazan;tier=gold` as an object; an empty field is none; a pair without `=` is the line's problem. */
function parseAttributes(field: string): Record<string, string> | undefined | string {
  if (field === '') return undefined;
  const attributes: Record<string, string> = {};
  for (const pair of field.split(';')) {
    const at = pair.indexOf('=');
    if (at <= 0) return `attributes: "${pair}" is not key=value (pairs are separated by ';')`;
    attributes[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return attributes;
}
