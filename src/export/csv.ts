/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record, ended with CRLF as RFC 4180 has it. */
export function csvRecord(values: readonly (string | number | null)[]): string {
  return values.map(csvField).join(',') + '\r\n';
}
