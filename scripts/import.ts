// `npm run import -- clients.csv [--url http://127.0.0.1:4000]`: streams a CSV of clients into
// a running Herald through importClients, 10,000 rows a call, and reports every bad row by
// its line. The token comes from HERALD_TOKEN, else from .data/admin-token (development).
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { csvColumns, parseCsvClient, type CsvClient } from '../src/clients/client.csv';

const BATCH = 10_000;
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
let columns: ReturnType<typeof csvColumns> | undefined;
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
  for (const e of body.data.importClients.errors) report(rows[e.index].line, e.message);
}

async function flush(): Promise<void> {
  if (batch.length === 0) return;
  const job = send(batch).finally(() => inFlight.delete(job));
  inFlight.add(job);
  batch = [];
  if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
}

let lineNo = 0;
for await (const line of createInterface({ input: createReadStream(file!), crlfDelay: Infinity })) {
  lineNo++;
  if (!columns) {
    try {
      columns = csvColumns(line);
    } catch (error) {
      fail(`line 1: ${(error as Error).message}`);
    }
    continue;
  }
  if (line.trim() === '') continue;
  const parsed = parseCsvClient(line, columns!);
  if (typeof parsed === 'string') report(lineNo, parsed);
  else batch.push({ line: lineNo, client: parsed });
  if (batch.length >= BATCH) await flush();
}
await flush();
await Promise.all(inFlight);
const seconds = (Date.now() - started) / 1000;
if (shown > SHOWN_ERRORS) process.stderr.write(`… and ${shown - SHOWN_ERRORS} more bad rows\n`);
console.log(`imported ${imported}, failed ${failed}, in ${seconds.toFixed(1)} s (${Math.round((imported + failed) / seconds)} rows/s)`);

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
