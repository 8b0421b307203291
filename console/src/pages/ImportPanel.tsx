import { useMutation } from '@apollo/client/react';
import { useState } from 'react';
import { ProgressBar, Table } from '../components';
// The same reader as `npm run import`: one CSV format, one way to read it (see that file).
import { csvLines, csvValueOf, MAX_IMPORT_ROWS, parseClientsCsv, type CsvClient } from '../../../src/clients/client.csv';
import { messageOf, withoutField } from '../errors';
import { count } from '../format';
import { IMPORT_CLIENTS } from '../operations';

const SHOWN_REJECTIONS = 200;

type Rejected = { line: number; field: string | null; value: string; message: string };
type Progress = { total: number; done: number; imported: number; rewritten: number; rejected: Rejected[]; finished: boolean; header: string; lines: string[] };

/** A field of a CSV line, quoted when it must be. */
const csvField = (value: string) => (/[",\r\n]/.test(value) || value.trim() !== value ? `"${value.replace(/"/g, '""')}"` : value);

/**
 * The rejected rows as a CSV to fix and import again: the file's header and each rejected
 * line as it was, with a `problem` column after them (which the import ignores).
 */
function rejectedCsv(progress: Progress): string {
  const lines = [`${progress.header},problem`];
  for (const r of progress.rejected) lines.push(`${progress.lines[r.line - 1] ?? ''},${csvField(r.field ? `${r.field}: ${r.message}` : r.message)}`);
  return `${lines.join('\n')}\n`;
}

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A CSV file of clients, sent MAX_IMPORT_ROWS (10,000) rows a call, with its progress and every rejected row by line. */
export function ImportPanel() {
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [importClients] = useMutation(IMPORT_CLIENTS);

  async function run() {
    if (!file) return;
    setProblem(null);
    let rows;
    const text = await file.text();
    const lines = csvLines(text);
    try {
      rows = parseClientsCsv(text);
    } catch (e) {
      return setProblem(`line 1: ${(e as Error).message}`);
    }
    const rejected: Rejected[] = [];
    const good: { line: number; client: CsvClient; typedPhone?: string }[] = [];
    for (const row of rows) {
      if ('problem' in row) rejected.push({ line: row.line, field: null, value: lines[row.line - 1] ?? '', message: row.problem });
      else good.push(row);
    }
    const rewritten = good.filter((r) => r.typedPhone !== undefined).length;
    let done = rejected.length;
    let imported = 0;
    const show = (finished: boolean) =>
      setProgress({ total: rows.length, done, imported, rewritten, rejected: [...rejected].sort((a, b) => a.line - b.line), finished, header: lines[0].replace(/^\uFEFF/, ''), lines });
    show(false);
    try {
      for (let i = 0; i < good.length; i += MAX_IMPORT_ROWS) {
        const batch = good.slice(i, i + MAX_IMPORT_ROWS);
        const { data } = await importClients({ variables: { input: batch.map((r) => r.client) } });
        const result = data!.importClients;
        imported += result.imported;
        done += batch.length;
        for (const e of result.errors) {
          const row = batch[e.index];
          rejected.push({ line: row.line, field: e.field ?? null, value: csvValueOf(row, e.field) ?? '', message: withoutField(e.field, e.message) });
        }
        show(false);
      }
      show(true);
    } catch (e) {
      setProblem(messageOf(e));
    }
  }

  return (
    <section className="card import" aria-label="import clients">
      <h2>Import clients from CSV</h2>
      <p className="hint">
        A first line naming the columns (phone, operatorCode, tags, timezone, and optionally name and attributes; any order), then one client a line; tags separated by ';', attributes as key=value pairs separated by ';'.
      </p>
      <div className="row">
        <input type="file" accept=".csv,text/csv" aria-label="CSV file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        <button disabled={!file || (progress !== null && !progress.finished && problem === null)} onClick={run}>
          Import
        </button>
      </div>
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      {progress && (
        <>
          <ProgressBar sent={progress.done} failed={0} total={progress.total} label="rows processed" />
          <p className="import-summary" role="status">
            {progress.finished ? 'Done: ' : ''}
            {count(progress.imported)} imported, {count(progress.rejected.length)} rejected
            {progress.rewritten > 0 && `; ${count(progress.rewritten)} ${progress.rewritten === 1 ? 'phone' : 'phones'} written as 7XXXXXXXXXX`}
          </p>
          {progress.finished && progress.rejected.length > 0 && (
            <button type="button" className="secondary" onClick={() => download(`${file?.name.replace(/\.csv$/i, '') ?? 'clients'}-rejected.csv`, rejectedCsv(progress))}>
              Download rejected rows (CSV)
            </button>
          )}
          {progress.rejected.length > 0 && (
            <Table className="rejected" headers={['Line', 'Field', 'Value', 'Problem']}>
              {progress.rejected.slice(0, SHOWN_REJECTIONS).map((r) => (
                <tr key={r.line}>
                  <td>{r.line}</td>
                  <td>{r.field ?? ''}</td>
                  <td className="rejected-value">
                    <code>{r.value.length > 80 ? `${r.value.slice(0, 80)}…` : r.value}</code>
                  </td>
                  <td className="error-text">{r.message}</td>
                </tr>
              ))}
            </Table>
          )}
          {progress.rejected.length > SHOWN_REJECTIONS && <p className="muted">… and {count(progress.rejected.length - SHOWN_REJECTIONS)} more.</p>}
        </>
      )}
    </section>
  );
}
