// `npm run import -- clients.csv [--url http://127.0.0.1:4000]`: streams a CSV of clients into
// a running Herald through importClients, MAX_IMPORT_ROWS (10,000) rows a call, read by the
// same reader as the console's import, and reports every bad row by its line. The token
// comes from HERALD_TOKEN, else from .data/admin-token (development).
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ClientsCsvReader, csvValueOf, MAX_IMPORT_ROWS, type CsvClient, type CsvRow } from '../src/clients/client.csv';

const IN_FLIGHT = 2;
const SHOWN_ERRORS = 50;

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const urlFlag = args.indexOf('--url');
const url = (urlFlag >= 0 ? args[urlFlag + 1] : process.env.HERALD_URL) ?? 'http://127.0.0.1:4000';
const token = process.env.HERALD_TOKEN ?? (existsSync('.data/admin-token') ? readFileSync('.data/admin-token', 'utf8').trim() : undefined);
if (!file || !existsSync(file)) fail(`usage: npm run import -- <file.csv> [--url ${url}]`);
if (!token) fail('set HERALD_TOKEN to an admin token (or run where .data/admin-token is)');

const MUTATION = `mutation($input: [CreateClientInput!]!) { importClients(input: $input) { imported failed errors { index code field message } } }`;
const started = Date.now();
let imported = 0;
let failed = 0;
let shown = 0;
let rewritten = 0;
const reader = new ClientsCsvReader();
let batch: { line: number; client: CsvClient }[] = [];
const inFlight = new Set<Promise<void>>();

function report(line: number, message: string) {
  failed++;
  if (shown++ < SHOWN_ERRORS) process.stderr.write(`line ${line}: ${message}\n`);
}

async function send(rows: { line: number; client: CsvClient }[]): Promise<void> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: MUTATION, variables: { input: rows.map((r) => r.client) } }),
  });
  const body = (await res.json()) as { data?: { importClients: { imported: number; errors: { index: number; field: string | null; message: string }[] } }; errors?: { message: string }[] };
  if (!body.data) fail(`Herald refused a batch (HTTP ${res.status}): ${body.errors?.map((e) => e.message).join('; ')}`);
  imported += body.data.importClients.imported;
  // Each refusal with the value at fault, as the file wrote it.
  for (const e of body.data.importClients.errors) report(rows[e.index].line, `${e.message}${shownValue(rows[e.index], e.field)}`);
}

async function flush(): Promise<void> {
  if (batch.length === 0) return;
  const job = send(batch).finally(() => inFlight.delete(job));
  inFlight.add(job);
  batch = [];
  if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
}

for await (const line of createInterface({ input: createReadStream(file!), crlfDelay: Infinity })) {
  let row: CsvRow | null;
  try {
    row = reader.read(line);
  } catch (error) {
    fail(`line 1: ${(error as Error).message}`);
  }
  if (!row) continue;
  if ('problem' in row) report(row.line, row.problem);
  else {
    if (row.typedPhone !== undefined) rewritten++;
    batch.push(row);
  }
  if (batch.length >= MAX_IMPORT_ROWS) await flush();
}
await flush();
await Promise.all(inFlight);
const seconds = (Date.now() - started) / 1000;
if (shown > SHOWN_ERRORS) process.stderr.write(`… and ${shown - SHOWN_ERRORS} more bad rows\n`);
console.log(`imported ${imported}, failed ${failed}, in ${seconds.toFixed(1)} s (${Math.round((imported + failed) / seconds)} rows/s)`);
if (rewritten > 0) console.log(`${rewritten} ${rewritten === 1 ? 'phone' : 'phones'} written as 7XXXXXXXXXX`);

/** ` (value: "…")` of the field a refusal names, as the file wrote it, or nothing. */
function shownValue(row: { client: CsvClient; typedPhone?: string }, field: string | null): string {
  const value = csvValueOf(row, field);
  return value === undefined ? '' : ` (value: ${JSON.stringify(value.slice(0, 80))})`;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
