// `npm run bench:webhooks -- [--events N] [--window W] [--batch B]`: how fast Herald drains its
// webhook outbox to a fast receiver, end to end. N messages (default 100,000) are written
// SENT before the webhook exists (no events), then one statement moves them all to DELIVERED,
// as a burst of receipts would: the messages trigger writes N MESSAGE_STATUS events and N
// deliveries in that transaction. From its commit to the receiver's N-th distinct event is
// the drain rate (deliveries/s). Checked afterwards: every event arrived, each webhook-id
// once (no retries were needed), every signature valid (standardwebhooks), and no delivery
// left PENDING. Herald runs in this process (role all) over DATABASE_URL (a database of its
// own is made and dropped); the receiver is a node:http server in a child process.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startHerald } from '../src/main';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

if (args[0] === '--receiver') {
  // The receiver: answers 204 at once, keeps what came, and hands it over when asked.
  const got: { id: string; ts: string; sig: string; body: string }[] = [];
  let firstAt = 0;
  let lastAt = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/report') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ got, firstAt, lastAt }));
        return;
      }
      lastAt = Date.now();
      firstAt ||= lastAt;
      got.push({ id: String(req.headers['webhook-id']), ts: String(req.headers['webhook-timestamp']), sig: String(req.headers['webhook-signature']), body: Buffer.concat(chunks).toString() });
      if (got.length % 100 === 0) process.send?.({ n: got.length });
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
} else {
  await main();
}

async function main() {
  const N = Number(flag('events') ?? 100_000);
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const name = `herald_bench_wh_${randomBytes(4).toString('hex')}`;
  await admin.unsafe(`create database ${name}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const token = 'bench-admin-token-0123456789';
  const config = loadConfig({
    DATABASE_URL: url.toString(),
    API_TOKENS: `admin:${token}`,
    PORT: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    WEBHOOK_WINDOW: flag('window') ?? '32',
    WEBHOOK_BATCH_SIZE: flag('batch') ?? '500',
  });
  const herald = await startHerald(config, createLogger('warn'));
  const sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
  const child = fork(fileURLToPath(import.meta.url), ['--receiver'], { execArgv: ['--import', 'tsx'] });
  let received = 0;
  let onCount: (() => void) | undefined;
  const port = await new Promise<number>((resolve) =>
    child.on('message', (m: { port?: number; n?: number }) => {
      if (m.port) resolve(m.port);
      if (m.n) {
        received = m.n;
        onCount?.();
      }
    }),
  );
  try {
    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const res = await fetch(`${herald.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: any; errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };
    const [mailing] = await sql<{ id: string }[]>`
      insert into mailings (name, text, start_at, end_at, status) values ('bench', 'Hi', now() + interval '1 day', now() + interval '2 days', 'SCHEDULED') returning id`;
    await sql`
      insert into messages (mailing_id, client_id, phone, status, provider, text, sent_at)
      select ${mailing.id}, i, (79000000000 + i)::text, 'SENT', 'default', 'Hi', now() from generate_series(1, ${N}) as i`;
    const created = await gql(`mutation($url: String!) { createWebhook(input: { url: $url, events: [MESSAGE_STATUS] }) { secret webhook { id } } }`, {
      url: `http://127.0.0.1:${port}/hook`,
    });
    const t0 = performance.now();
    await sql`update messages set status = 'DELIVERED', delivered_at = now() where mailing_id = ${mailing.id}`;
    const writeMs = performance.now() - t0;
    const committedAt = Date.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received} of ${N} arrived within 10 min`)), 600_000);
      onCount = () => {
        if (received >= N) {
          clearTimeout(timer);
          resolve();
        }
      };
      onCount();
    });
    const report = (await (await fetch(`http://127.0.0.1:${port}/report`)).json()) as { got: { id: string; ts: string; sig: string; body: string }[]; lastAt: number };
    const seconds = (report.lastAt - committedAt) / 1000;
    // Invariants: every event once, signatures valid, nothing left owed.
    const verifier = new Webhook(created.createWebhook.secret);
    let bad = 0;
    const ids = new Set<string>();
    for (const r of report.got) {
      ids.add(r.id);
      try {
        verifier.verify(r.body, { 'webhook-id': r.id, 'webhook-timestamp': r.ts, 'webhook-signature': r.sig });
      } catch {
        bad++;
      }
    }
    const [{ pending, delivered }] = await sql<{ pending: number; delivered: number }[]>`
      select count(*) filter (where status = 'PENDING')::int as pending, count(*) filter (where status = 'DELIVERED')::int as delivered from webhook_deliveries`;
    const [{ events }] = await sql<{ events: number }[]>`select count(*)::int as events from webhook_events`;
    const result = {
      events: N,
      eventsWritten: events,
      triggerStatementMs: Math.round(writeMs),
      received: report.got.length,
      distinct: ids.size,
      badSignatures: bad,
      pending,
      delivered,
      drainSeconds: Number(seconds.toFixed(2)),
      deliveriesPerSecond: Math.round(N / seconds),
      window: config.webhooks.window,
      batch: config.webhooks.batchSize,
    };
    console.log(JSON.stringify(result, null, 2));
    const ok = events === N && ids.size === N && report.got.length === N && bad === 0 && pending === 0 && result.deliveriesPerSecond >= 2_000;
    console.log(ok ? 'OK: every event delivered once, signatures valid, >= 2,000 deliveries/s' : 'FAILED: an invariant or the rate does not hold');
    process.exitCode = ok ? 0 : 1;
  } finally {
    child.kill();
    await sql.end();
    await herald.stop();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
