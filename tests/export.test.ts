import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailing, insertClients, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { ADMIN_TOKEN, createTestDatabase, VIEWER_TOKEN } from './support/herald';
import { clientOf, logLines, spawnReady, terminate, type RunningHerald } from './support/process';
import { sleep, waitFor } from './support/wait';

const ROWS = 100_000;
const LONG_ERROR = 'x'.repeat(1_000);
// Herald's heap holds about 50 MB at rest: with this cap, an export that held its 100 MB of
// rows (or of CSV) in memory would end the process; one that streams does not notice.
const MAX_OLD_SPACE_MB = 110;
// Every kind of field that needs quoting, each on its own row.
const TRICKY = ['he said "no", twice', 'line one\nline two', 'comma, then more', 'carriage\r\nreturn', '"quoted"'];

let herald: RunningHerald;
let sql: postgres.Sql;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let big: string;

beforeAll(async () => {
  gateway = await startTestGateway();
  database = await createTestDatabase();
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  herald = await spawnReady({
    DATABASE_URL: database.url,
    SENDER_URL: gateway.config.senderUrl,
    SENDER_TOKEN: gateway.config.senderToken,
    DISPATCH_POLL_MS: '20',
    API_TOKENS: `admin:${ADMIN_TOKEN},viewer:${VIEWER_TOKEN}`,
    NODE_OPTIONS: `--max-old-space-size=${MAX_OLD_SPACE_MB}`,
  });
  // A real mailing, then its messages made many: 100,000 rows straight into the table.
  await insertClients({ sql }, 3, { tags: ['exported'] });
  const mailing = await createMailing(clientOf(herald.url), { text: 'Export me', filter: { tags: ['exported'] } });
  await untilMailingStatus(clientOf(herald.url), mailing.id, 'COMPLETED', 10_000);
  big = mailing.id;
  await sql`
    insert into messages (mailing_id, client_id, phone, status, attempts, last_error, sent_at, delivered_at)
    select ${big}, 10000000 + i, (79000000000 + i)::text,
           (case when i % 4 = 0 then 'DELIVERED' when i % 2 = 0 then 'SENT' else 'FAILED' end)::message_status, 1 + i % 3,
           case when i <= ${TRICKY.length} then (${TRICKY}::text[])[i] when i % 2 = 1 then ${LONG_ERROR} end,
           case when i % 2 = 0 then timestamptz '2026-01-02 03:04:05.678+00' end,
           -- a receipt's time, as the receipts part of issue 19 writes it (here by SQL)
           case when i % 4 = 0 then timestamptz '2026-01-02 03:05:06.789+00' end
    from generate_series(1, ${ROWS - 3}) as i`;
}, 120_000);

afterAll(async () => {
  await terminate(herald);
  await sql?.end();
  await database?.drop();
  await gateway?.simulator.stop();
});

const exportUrl = (id: string) => `${herald.url}/mailings/${id}/messages.csv`;

/** RFC 4180, incrementally: fed text as it comes, it hands each record over and keeps only the one being read. */
function csvReader(onRecord: (fields: string[]) => void) {
  let field = '';
  let fields: string[] = [];
  let quoted = false;
  let afterQuote = false;
  let pendingCr = false;
  return (text: string) => {
    for (const c of text) {
      if (quoted) {
        if (c === '"') {
          quoted = false;
          afterQuote = true;
        } else field += c;
        continue;
      }
      if (pendingCr) {
        pendingCr = false;
        if (c !== '\n') throw new Error('a CR outside quotes not followed by LF');
        fields.push(field);
        onRecord(fields);
        field = '';
        fields = [];
        continue;
      }
      if (c === '"') {
        if (afterQuote) field += '"'; // a doubled quote inside a quoted field
        else if (field !== '') throw new Error(`a quote inside an unquoted field: ${field}`);
        quoted = true;
        afterQuote = false;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        afterQuote = false;
      } else if (c === '\r') {
        pendingCr = true;
        afterQuote = false;
      } else if (c === '\n') {
        throw new Error('a bare LF outside quotes: records end with CRLF');
      } else {
        if (afterQuote) throw new Error('text after a closing quote');
        field += c;
      }
    }
  };
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

describe('GET /mailings/{id}/messages.csv', () => {
  it('should stream every message of a 100,000-message mailing with bounded memory, quoted so that it parses back', async () => {
    const pid = herald.proc.child.pid!;
    const baseline = rssOf(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
    const records: string[][] = [];
    let count = 0;
    let bytes = 0;
    // Ids here run from one digit to six: the order must be the numbers', not the text's.
    let previousId = 0;
    let outOfOrder = 0;
    try {
      const res = await fetch(exportUrl(big), { headers: { authorization: `Bearer ${VIEWER_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="mailing-${big}-messages.csv"`);
      const feed = csvReader((r) => {
        if (count < 20 || TRICKY.includes(r[6])) records.push(r);
        expect(r).toHaveLength(8);
        if (count > 0) {
          if (Number(r[0]) <= previousId) outOfOrder++;
          previousId = Number(r[0]);
        }
        count++;
      });
      const decoder = new TextDecoder();
      const reader = res.body!.getReader();
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        bytes += next.value.length;
        feed(decoder.decode(next.value, { stream: true }));
      }
    } finally {
      clearInterval(sampler);
    }
    expect(count).toBe(ROWS + 1);
    expect(outOfOrder).toBe(0);
    expect(records[0]).toEqual(['id', 'clientId', 'phone', 'status', 'attempts', 'sentAt', 'lastError', 'deliveredAt']);
    // The first rows are the table's, in id order, field for field.
    const first = await sql`
      select id::text, client_id::text, phone, status::text, attempts::text,
             coalesce(to_char(sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '') as sent_at, coalesce(last_error, '') as last_error,
             coalesce(to_char(delivered_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '') as delivered_at
      from messages where mailing_id = ${big} order by messages.id limit 19`;
    expect(records.slice(1, 20)).toEqual(first.map((r) => [r.id, r.client_id, r.phone, r.status, r.attempts, r.sent_at, r.last_error, r.delivered_at]));
    expect(records.slice(1, 20).some((r) => r[3] === 'DELIVERED' && r[7] === '2026-01-02T03:05:06.789Z')).toBe(true);
    expect(records.slice(1, 20).some((r) => r[3] === 'SENT' && r[7] === '')).toBe(true);
    expect(records.slice(1, 20).some((r) => r[5] === '2026-01-02T03:04:05.678Z')).toBe(true);
    expect(records.slice(1, 20).some((r) => r[3] === 'FAILED' && r[6] === LONG_ERROR)).toBe(true);
    // Quotes, commas and line breaks came back as they were.
    expect(records.slice(1).filter((r) => TRICKY.includes(r[6])).map((r) => r[6]).sort()).toEqual([...TRICKY].sort());
    // Some 50 MB of it went out through a heap capped near what Herald needs at rest: the
    // process lives on, and grew by less than half of what it sent.
    expect(bytes).toBeGreaterThan(50_000_000);
    expect(herald.proc.child.exitCode).toBeNull();
    expect((await fetch(`${herald.url}/healthz`)).status).toBe(200);
    console.log(`export: ${count - 1} rows, ${Math.round(bytes / 1e6)} MB streamed, RSS ${Math.round(baseline / 1e6)} → peak ${Math.round(peak / 1e6)} MB`);
    expect(peak - baseline).toBeLessThan(bytes / 2);
  }, 60_000);

  it('should wait for a reader that stops: the rest is not read from the database meanwhile', async () => {
    const res = await fetch(exportUrl(big), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const reader = res.body!.getReader();
    await reader.read();
    const exportsBefore = logLines(herald.proc, 'messages exported').length;
    await sleep(1_000);
    // Paused: the export is neither finished nor given up, its cursor is still open.
    expect(logLines(herald.proc, 'messages exported')).toHaveLength(exportsBefore);
    const open = await sql`select count(*)::int as n from pg_stat_activity where application_name = 'herald-export' and state <> 'idle'`;
    expect(open[0].n).toBe(1);
    await reader.cancel();
    await waitFor(async () => (await sql`select count(*)::int as n from pg_stat_activity where application_name = 'herald-export' and state <> 'idle'`)[0].n === 0, 5_000, 'the cursor to close');
  });

  it('should answer 401 without a valid token, and 404 for a mailing that does not exist', async () => {
    expect((await fetch(exportUrl(big))).status).toBe(401);
    expect((await fetch(exportUrl(big), { headers: { authorization: 'Bearer not-a-token-at-all-00000' } })).status).toBe(401);
    const missing = await fetch(exportUrl('987654321'), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ errors: [{ message: 'no mailing with this id', extensions: { code: 'NOT_FOUND' } }] });
    expect((await fetch(exportUrl('abc'), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(404);
  });
});
