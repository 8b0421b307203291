import { useMutation } from '@apollo/client/react';
import { useState } from 'react';
import { ProgressBar, Table } from '../components';
// The same reader as `npm run import`: one CSV format, one way to read it (see that file).
import { MAX_IMPORT_ROWS, parseClientsCsv, type CsvClient } from '../../../src/clients/client.csv';
import { messageOf, withoutField } from '../errors';
import { count } from '../format';
import { IMPORT_CLIENTS } from '../operations';

const SHOWN_REJECTIONS = 200;

type Rejected = { line: number; field: string | null; message: string };
type Progress = { total: number; done: number; imported: number; rejected: Rejected[]; finished: boolean };

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
    try {
      rows = parseClientsCsv(await file.text());
    } catch (e) {
      return setProblem(`line 1: ${(e as Error).message}`);
    }
    const rejected: Rejected[] = [];
    const good: { line: number; client: CsvClient }[] = [];
    for (const row of rows) {
      if ('problem' in row) rejected.push({ line: row.line, field: null, message: row.problem });
      else good.push(row);
    }
    let done = rejected.length;
    let imported = 0;
    const show = (finished: boolean) => setProgress({ total: rows.length, done, imported, rejected: [...rejected].sort((a, b) => a.line - b.line), finished });
    show(false);
    try {
      for (let i = 0; i < good.length; i += MAX_IMPORT_ROWS) {
        const batch = good.slice(i, i + MAX_IMPORT_ROWS);
        const { data } = await importClients({ variables: { input: batch.map((r) => r.client) } });
        const result = data!.importClients;
        imported += result.imported;
        done += batch.length;
        for (const e of result.errors) rejected.push({ line: batch[e.index].line, field: e.field ?? null, message: withoutField(e.field, e.message) });
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
          </p>
          {progress.rejected.length > 0 && (
            <Table className="rejected" headers={['Line', 'Field', 'Problem']}>
              {progress.rejected.slice(0, SHOWN_REJECTIONS).map((r) => (
                <tr key={r.line}>
                  <td>{r.line}</td>
                  <td>{r.field ?? ''}</td>
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
