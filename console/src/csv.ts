/**
 * The clients CSV of `npm run import` (see Herald's README): a header naming the columns in
 * any order (phone, operatorCode or operator_code, tags, timezone, and optionally name and
 * attributes), then one client a line; tags separated by ';', attributes as key=value pairs
 * separated by ';'; fields may be "quoted" with "" for a quote. Herald judges the values.
 */
export type CsvClient = { phone: string; operatorCode?: string; tags: string[]; timezone: string; name?: string; attributes?: Record<string, string> };
export type CsvRow = { line: number; client: CsvClient } | { line: number; problem: string };

const COLUMNS: Record<string, 'phone' | 'operatorCode' | 'tags' | 'timezone' | 'name' | 'attributes'> = {
  phone: 'phone',
  operatorcode: 'operatorCode',
  operator_code: 'operatorCode',
  tags: 'tags',
  timezone: 'timezone',
  name: 'name',
  attributes: 'attributes',
};

function fields(line: string): string[] {
  const out: string[] = [];
  const pattern = /\s*(?:"((?:[^"]|"")*)"|([^,]*))\s*(,|$)/y;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(line))) {
    out.push(match[1] !== undefined ? match[1].replaceAll('""', '"') : match[2]);
    if (match[3] === '') break;
  }
  return out;
}

/** Every data line of the file as a client or as the problem it has; throws for a bad header. */
export function parseClientsCsv(text: string): CsvRow[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const columns = fields(lines[0] ?? '').map((name) => COLUMNS[name.trim().toLowerCase()]);
  for (const required of ['phone', 'timezone'] as const) {
    if (!columns.includes(required)) throw new Error(`the first line names no "${required}" column`);
  }
  const rows: CsvRow[] = [];
  lines.slice(1).forEach((text, i) => {
    const line = i + 2;
    if (text.trim() === '') return;
    const values = fields(text);
    if (values.length !== columns.length) return void rows.push({ line, problem: `expected ${columns.length} fields, found ${values.length}` });
    const client: CsvClient = { phone: '', tags: [], timezone: '' };
    let problem: string | null = null;
    columns.forEach((column, c) => {
      const value = values[c].trim();
      if (column === 'tags') client.tags = value === '' ? [] : value.split(';');
      else if (column === 'operatorCode') client.operatorCode = value || undefined;
      else if (column === 'name') client.name = value || undefined;
      else if (column === 'attributes') {
        for (const pair of value === '' ? [] : value.split(';')) {
          const at = pair.indexOf('=');
          if (at <= 0) problem ??= `attributes: "${pair}" is not key=value (pairs are separated by ';')`;
          else (client.attributes ??= {})[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
        }
      } else if (column) client[column] = value;
    });
    rows.push(problem ? { line, problem } : { line, client });
  });
  return rows;
}
