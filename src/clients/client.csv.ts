/**
 * Reading the clients CSV that `npm run import` takes: a header row naming the columns
 * (phone, operatorCode or operator_code, tags, timezone, and optionally name and attributes;
 * any order, case-insensitive), then one client a line. Tags within their field are separated
 * by ';', attributes are `key=value` pairs separated by ';'. Fields may be quoted ("…", with
 * "" for a quote); a field does not span lines. Herald judges the values (importClients).
 */
export type CsvClient = { phone: string; operatorCode?: string; tags?: string[]; timezone: string; name?: string; attributes?: Record<string, string> };

const COLUMN_NAMES: Record<string, keyof CsvClient> = {
  phone: 'phone',
  operatorcode: 'operatorCode',
  operator_code: 'operatorCode',
  tags: 'tags',
  timezone: 'timezone',
  name: 'name',
  attributes: 'attributes',
};

export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** Maps the header to columns; throws when a required column is missing. */
export function csvColumns(header: string): (keyof CsvClient | null)[] {
  const columns = splitCsvLine(header.replace(/^\uFEFF/, '')).map((name) => COLUMN_NAMES[name.trim().toLowerCase()] ?? null);
  for (const required of ['phone', 'timezone'] as const) {
    if (!columns.includes(required)) throw new Error(`the header names no "${required}" column`);
  }
  return columns;
}

// A control character (tab aside, a field separator some tools write) in a line is that
// line's problem alone: reported with its line, never sent to spoil a batch.
const CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F]/;

export function parseCsvClient(line: string, columns: (keyof CsvClient | null)[]): CsvClient | string {
  const control = CONTROL.exec(line);
  if (control) return `holds a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}) at column ${control.index + 1}`;
  const fields = splitCsvLine(line);
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
