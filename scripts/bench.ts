// `npm run bench -- [--clients N] [--realistic R] [--json]`: measures Herald end to end on
// this machine, in one run, against its ceilings and against the naive design:
//   1. import N clients (and R more for step 4) through importClients (10,000 a call, 2 calls
//      in flight);
//   2. one mailing to the N: from createMailing to the first gateway request, then dispatch
//      to the gateway simulator (its own process, fast mode), with Herald's peak RSS and
//      GraphQL latency sampled;
//   3. latency again at rest, with the N messages in the table;
//   4. the realistic run: a mailing to the R others while the simulator answers in 20–300 ms
//      (uniform), 1% in 3 s and 1% with a 5xx, as a real gateway would;
//   5. the ceilings: N requests straight from undici to the simulator in fast mode, and R in
//      the realistic mode, same concurrency, no database;
//   6. the baseline: one pg-boss job per message for a sample of 50,000 (or N);
//   7. the cost of metrics: mailings to M more clients (--metrics-sample, default 20,000 or N/2)
//      with the dispatching process restarted with METRICS_ENABLED=false and =true in turn
//      (off, on, three times each), fast gateway; the best run of each compared: rate and
//      the dispatching process's CPU time per message;
//  7b. Herald's defaults: the same mailing twice with the dispatching process restarted
//      without the bench's tuning (SENDER_CONCURRENCY, DISPATCH_BATCH_SIZE, DISPATCH_POLL_MS)
//      against a gateway answering in 1–2 ms, and undici alone at the same 50 slots
//      (`ratio.defaults`, target ≥ 0.6).
// With --smpp [--smpp-clients S] [--smpp-binds B] [--smpp-window W] (defaults: 100,000 or N,
// 2 binds, a window of 100), also over SMPP, against the SMPP simulator in fast mode (its own
// process, `npm run gateway -- --smpp`):
//   8. Herald: a mailing to S more clients, the dispatching process restarted with a
//      PROVIDERS_FILE of one SMPP provider (B binds, window W) and no SENDER_URL;
//   9. the ceiling: S submit_sm straight from the `smpp` package's client (B binds, at most W
//      unacknowledged on each), no database; then Herald's SMPP adapter (SmppSender) alone in
//      this process, the same S with B × W in flight: what the adapter costs apart from the
//      dispatcher and the database.
// Each checks what the SMSC saw: S submit_sm to S distinct numbers, no window overrun.
// Herald, the simulators and PostgreSQL (embedded) each run in their own process.
// Every run named for a simulator mode sets that mode and reads it back first (simulatorMode);
// the bench then checks its own invariants (checkInvariants: e.g. a realistic ceiling within
// concurrency ÷ mean latency, every message sent) and exits 1, naming each one broken.
//
// `npm run bench -- --history N [--history-days 50]`: N old messages in day partitions against
// an empty database, same run (see mainHistory).
//
// `npm run bench -- --api [--api-clients 16] [--api-seconds 20]`: a trivial query's cost to
// the api process at rest, `api.cpuMsPerRequest` (see mainApi).
//
// `npm run bench -- --load [--clients N] [--graphql-clients 200] [--subscribers 500]
// [--think-ms 1000]` measures instead Herald under load: a mailing to N (default 100,000)
// with nothing else going on, then the same mailing again while G GraphQL clients (each its
// own viewer token) run a mix of queries with a think time between them and S websocket
// subscribers follow its progress; prints p50/p99 per operation and both dispatch rates.
//
// `npm run bench -- --live [--clients N] [--subscribers 10000] [--storm 1000] [--live-processes 4] [--live-nice 5]`:
// 10,000 websocket subscribers on one api process while a mailing dispatches (see mainLive).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, setPriority, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import PgBoss from 'pg-boss';
import postgres from 'postgres';
import { createClient as createWsClient } from 'graphql-ws';
import smpp from 'smpp';
import type { OpenCommand, OpenedReply, ReportReply, SocketPlan } from './bench-live-sockets';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { loadConfig } from '../src/config';
import { startEmbeddedPostgres } from '../src/db/embedded';
import { createLogger } from '../src/logger';
import { Metrics } from '../src/metrics/metrics';
import { SmppSender } from '../src/providers/smpp.client';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const LOAD = args.includes('--load');
const API = args.includes('--api');
const HISTORY = args.includes('--history');
const LIVE = args.includes('--live');
const CLIENTS = Number(flag('clients') ?? (LIVE ? 60_000 : LOAD ? 100_000 : 1_000_000));
const REALISTIC = Number(flag('realistic') ?? Math.min(50_000, CLIENTS));
/** The realistic gateway of step 4: its latency, tail and failures. */
const REALISTIC_BEHAVIOUR = { latencyMs: [20, 300], tailRate: 0.01, tailMs: 3_000, errorRate: 0.01, malformedRate: 0, rejectRate: 0 };
const FAST_BEHAVIOUR = { latencyMs: 0, tailRate: 0, tailMs: 0, errorRate: 0, malformedRate: 0, rejectRate: 0 };
/** Step 7b's gateway: answers in 1–2 ms, as a near one does (issue 21's "Fast with its defaults"). */
const DEFAULTS_BEHAVIOUR = { ...FAST_BEHAVIOUR, latencyMs: [1, 2] };
/** SENDER_CONCURRENCY's default, which step 7b runs with. */
const DEFAULT_CONCURRENCY = loadConfig({}).dispatch.concurrency;
/** The bench's tuning of the dispatcher, left out in step 7b. */
const TUNING = ['SENDER_CONCURRENCY', 'DISPATCH_BATCH_SIZE', 'DISPATCH_POLL_MS'];
const JSON_ONLY = args.includes('--json');
const CONCURRENCY = Number(flag('concurrency') ?? 256);
// --pg-stats: after the dispatch, print where PostgreSQL spent its time (pg_stat_statements).
const PG_STATS = args.includes('--pg-stats');
// Herald runs as it would at scale: an api process (GraphQL) and a worker process
// (dispatcher and timers), so that queries do not queue behind sending on one event loop.
// --single: one process with both (HERALD_ROLE=all), as `npm start` runs it.
const SINGLE = args.includes('--single');
// --keep: leave the data directory (Herald's logs, PostgreSQL's data) behind, and say where.
const KEEP = args.includes('--keep');
const BASELINE_SAMPLE = Math.min(50_000, CLIENTS);
const METRICS_SAMPLE = Number(flag('metrics-sample') ?? Math.min(20_000, Math.ceil(CLIENTS / 2)));
const SMPP = args.includes('--smpp');
const SMPP_SAMPLE = SMPP ? Number(flag('smpp-clients') ?? Math.min(100_000, CLIENTS)) : 0;
const SMPP_BINDS = Number(flag('smpp-binds') ?? 2);
const SMPP_WINDOW = Number(flag('smpp-window') ?? 100);
const SMSC = { systemId: 'herald-bench', password: 'bench-pw' };
const TOKEN = 'bench-admin-token-0123456789';
const GATEWAY_TOKEN = 'bench-gateway-token-0123456789';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const say = (line: string) => {
  if (!JSON_ONLY) process.stderr.write(`${line}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** --worker-nice N: WORKER_NICE for every Herald process the bench starts (unset: Herald's default). */
const WORKER_NICE = flag('worker-nice');

/**
 * Herald as `npm start` runs it: the bundle dist/herald.mjs (built once as the bench starts,
 * from the source as it is) under plain node. Not through tsx, whose loader thread and source
 * maps add ~70 MB a process (docs/performance.md): the RSS the bench reports is production's.
 */
const HERALD_BUNDLE = path.join(ROOT, 'dist', 'herald.mjs');
let heraldBuilt = false;
function spawnHerald(env: Record<string, string>, logFile: number, nodeArgs: string[] = []): ChildProcess {
  if (!heraldBuilt) {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-server.mjs')], { cwd: ROOT, stdio: 'inherit' });
    heraldBuilt = true;
  }
  return spawn(process.execPath, [...nodeArgs, HERALD_BUNDLE], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', logFile, logFile] });
}

/** A child's whole environment: PATH, HOME, the bench's --worker-nice, and what it is given. */
function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...(WORKER_NICE === undefined ? {} : { WORKER_NICE }), ...env };
}

function spawnTs(script: string, env: Record<string, string>, logFile?: number, nodeArgs: string[] = [], scriptArgs: string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...scriptArgs], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', logFile ?? 'pipe', logFile ?? 'pipe'],
  });
}

/** Waits for a line in a log file a child writes (read from its end, every 100 ms). */
async function waitForLog(file: string, text: string, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const content = await readFile(file, 'utf8').catch(() => '');
    const line = content.split('\n').find((l) => l.includes(text));
    if (line) return line;
    await sleep(100);
  }
  throw new Error(`timed out waiting for "${text}" in ${file}`);
}

function waitForOutput(child: ChildProcess, text: string, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}":\n${seen.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.length > 100_000) seen = seen.slice(-50_000);
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before "${text}":\n${seen.slice(-2000)}`)));
  });
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** GraphQL at a Herald as the bench's admin: the data, or an error showing the answer. */
function graphqlAt(heraldUrl: string) {
  return async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${heraldUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: any; errors?: unknown[] };
    if (!body.data || body.errors) throw new Error(`GraphQL failed: ${JSON.stringify(body).slice(0, 500)}`);
    return body.data;
  };
}

/** An embedded PostgreSQL and the gateway simulator, each in its own process, stopped by `cleanups`. */
async function startDatabaseAndGateway(dataDir: string, cleanups: (() => Promise<unknown> | void)[], settings: Record<string, string> = {}) {
  const pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), log: createLogger('silent'), database: 'herald_bench', settings });
  cleanups.push(() => pg.stop());
  const gatewayPort = await freePort();
  const simulator = spawnTs('scripts/gateway.ts', { GATEWAY_PORT: String(gatewayPort), GATEWAY_TOKEN, GATEWAY_RECORD: 'false' });
  cleanups.push(() => void simulator.kill('SIGTERM'));
  await waitForOutput(simulator, 'gateway simulator at');
  return { pg, simulator, senderUrl: `http://127.0.0.1:${gatewayPort}` };
}

/** The SMPP simulator in its own process (`npm run gateway -- --smpp`), fast and not recording. */
async function startSmsc(cleanups: (() => Promise<unknown> | void)[]) {
  const [port, controlPort] = [await freePort(), await freePort()];
  const env = { SMPP_PORT: String(port), SMPP_CONTROL_PORT: String(controlPort), SMPP_RECORD: 'false', SMPP_SYSTEM_ID: SMSC.systemId, SMPP_PASSWORD: SMSC.password };
  // No receipts: the dispatch is measured as over HTTP (whose simulator has no receipt URL
  // here) and as the ceiling (which answers none): with them on, Herald alone also matched and
  // wrote a receipt a message, twice the SMSC's work and more than twice PostgreSQL's.
  const child = spawnTs('scripts/gateway.ts', env, undefined, [], ['--smpp', '--no-receipts']);
  cleanups.push(() => void child.kill('SIGTERM'));
  await waitForOutput(child, 'smpp simulator at');
  const control = `http://127.0.0.1:${controlPort}/_sim`;
  return {
    child,
    host: '127.0.0.1',
    port,
    reset: async () => void (await fetch(`${control}/reset`, { method: 'POST' })).body?.cancel(),
    stats: async () => (await (await fetch(`${control}/stats`)).json()) as SmscStats,
  };
}
type SmscStats = { submits: number; accepted: number; destinations: number; bound: number; binds: { index: number; maxUnacknowledged: number; closed: boolean }[] };

/** What the SMSC must have seen of n messages sent through `binds` sessions with `window`: throws otherwise. */
function checkSmsc(what: string, stats: SmscStats, n: number, binds: number | null, window: number): void {
  const problems: string[] = [];
  if (stats.submits !== n) problems.push(`${stats.submits} submit_sm for ${n} messages`);
  if (stats.accepted !== n) problems.push(`${stats.accepted} accepted of ${n}`);
  if (stats.destinations !== n) problems.push(`${stats.destinations} distinct destinations for ${n} clients`);
  const open = stats.binds.filter((b) => !b.closed);
  if (binds !== null && open.length !== binds) problems.push(`${open.length} sessions bound, not ${binds}`);
  const overrun = stats.binds.filter((b) => b.maxUnacknowledged > window);
  if (overrun.length > 0) problems.push(`a window of ${window} overrun: ${overrun.map((b) => b.maxUnacknowledged).join(', ')} unacknowledged at most`);
  if (problems.length > 0) throw new Error(`${what}: the SMSC saw ${problems.join('; ')}`);
}

async function main() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'herald-bench-'));
  const cleanups: (() => Promise<unknown> | void)[] = [];
  try {
    say(`bench: ${CLIENTS.toLocaleString('en')} clients, concurrency ${CONCURRENCY}, ${cpus().length} cores`);
    const { pg, simulator, senderUrl } = await startDatabaseAndGateway(dataDir, cleanups, PG_STATS ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } : {});
    const smsc = SMPP ? await startSmsc(cleanups) : null;

    const port = await freePort();
    const heraldUrl = `http://127.0.0.1:${port}`;
    const heraldEnv = {
      DATABASE_URL: pg.url,
      API_TOKENS: `admin:${TOKEN}`,
      SENDER_URL: senderUrl,
      SENDER_TOKEN: GATEWAY_TOKEN,
      SENDER_CONCURRENCY: String(CONCURRENCY),
      DISPATCH_BATCH_SIZE: '500',
      DISPATCH_POLL_MS: '50',
      LOG_LEVEL: flag('log-level') ?? 'info', // by default every attempt is logged, as in production
    };
    const nodeArgs = flag('node-args')?.split(' ') ?? []; // e.g. --node-args --cpu-prof
    // Herald's logs go to files: a million attempt lines cost the bench nothing to read.
    // `without`: variables of heraldEnv this process must not have (SENDER_URL beside a PROVIDERS_FILE).
    const startHeraldProcess = async (name: string, env: Record<string, string>, without: string[] = []) => {
      const logFile = path.join(dataDir, `${name}.log`);
      const own = Object.fromEntries(Object.entries({ ...heraldEnv, ...env }).filter(([k]) => !without.includes(k)));
      const child = spawnHerald(own, openSync(logFile, 'w'), nodeArgs);
      cleanups.push(() => void child.kill('SIGTERM'));
      await waitForLog(logFile, '"msg":"Herald is listening"');
      return { name, child, logFile };
    };
    const heralds = SINGLE
      ? [await startHeraldProcess('herald', { HERALD_ROLE: 'all', PORT: String(port) })]
      : [
          await startHeraldProcess('api', { HERALD_ROLE: 'api', PORT: String(port) }),
          await startHeraldProcess('worker', { HERALD_ROLE: 'worker', PORT: String(await freePort()) }),
        ];

    const gql = graphqlAt(heraldUrl);

    // 1. Import.
    say('importing…');
    const importStarted = performance.now();
    const IMPORT = `mutation($input: [CreateClientInput!]!) { importClients(input: $input) { imported failed } }`;
    const zones = ['Europe/Moscow', 'Asia/Yekaterinburg', 'Asia/Novosibirsk', 'Asia/Vladivostok', 'Europe/Kaliningrad'];
    let imported = 0;
    const inFlight = new Set<Promise<void>>();
    const TOTAL = CLIENTS + REALISTIC + METRICS_SAMPLE + SMPP_SAMPLE;
    for (let from = 0; from < TOTAL; from += 10_000) {
      const input = Array.from({ length: Math.min(10_000, TOTAL - from) }, (_, j) => {
        const i = from + j;
        const tags = i >= CLIENTS + REALISTIC + METRICS_SAMPLE ? ['smpp'] : i >= CLIENTS + REALISTIC ? ['metrics'] : i >= CLIENTS ? ['realistic'] : i % 2 ? ['odd'] : ['even'];
        return { phone: `79${String(i).padStart(9, '0')}`, timezone: zones[i % zones.length], tags };
      });
      const job = gql(IMPORT, { input }).then((d) => void (imported += d.importClients.imported));
      const tracked = job.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= 2) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const importSeconds = (performance.now() - importStarted) / 1000;
    if (imported !== TOTAL) throw new Error(`imported ${imported} of ${TOTAL}`);
    say(`  ${TOTAL} clients in ${importSeconds.toFixed(1)} s`);

    // 2. One mailing to everyone.
    const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    cleanups.push(() => sql.end());
    if (PG_STATS) {
      await sql`create extension if not exists pg_stat_statements`;
      await sql`select pg_stat_statements_reset()`;
    }
    // Peak RSS of each Herald process, and of all of them at once.
    const peaks = new Map(heralds.map((h) => [h.name, 0]));
    let peakTotal = 0;
    const rssTimer = setInterval(() => {
      void Promise.all(heralds.map(async (h) => [h.name, await rssMb(h.child.pid!)] as const)).then((samples) => {
        for (const [name, mb] of samples) peaks.set(name, Math.max(peaks.get(name)!, mb));
        peakTotal = Math.max(peakTotal, samples.reduce((sum, [, mb]) => sum + mb, 0));
      });
    }, 100);
    cleanups.push(() => clearInterval(rssTimer));

    say('dispatching…');
    const pgPids = await postgresPids(sql);
    const dispatchProcesses = () => ({ ...Object.fromEntries(heralds.map((h) => [h.name, [h.child.pid!]])), simulator: [simulator.pid!], postgres: pgPids() });
    const cpuBefore = cpuSeconds(dispatchProcesses());
    const CREATE = `mutation($input: CreateMailingInput!) { createMailing(input: $input) { id status } }`;
    const simulatorStats = async () => (await (await fetch(`${senderUrl}/_sim/stats`)).json()) as { requests: number; firstRequestAt: number | null };
    await simulatorMode(senderUrl, 'fast', FAST_BEHAVIOUR);
    const createdAt = Date.now();
    const { createMailing } = await gql(CREATE, {
      input: { text: 'Bench message', startAt: new Date().toISOString(), endAt: new Date(Date.now() + 3 * 3600_000).toISOString(), filter: { tags: ['odd', 'even'] } },
    });
    const createMs = Date.now() - createdAt;
    const mailingId = createMailing.id;
    if (createMailing.status !== 'RUNNING') throw new Error(`a due mailing answered ${createMailing.status}`);
    const STATS = `query($id: ID!) { mailing(id: $id) { status stats { total pending sent failed } } }`;
    const CLIENTS_PAGE = `{ clients(first: 50) { edges { node { id phone } } } }`;
    const during = { stats: [] as number[], clients: [] as number[] };
    let status = 'SCHEDULED';
    while (status !== 'COMPLETED') {
      let t = performance.now();
      const { mailing } = await gql(STATS, { id: mailingId });
      during.stats.push(performance.now() - t);
      status = mailing.status;
      t = performance.now();
      await gql(CLIENTS_PAGE);
      during.clients.push(performance.now() - t);
      // Sampled 20 times a second: often enough for a p99, not so often that the sampling
      // itself takes a share of the two cores from what it measures.
      await sleep(50);
    }
    clearInterval(rssTimer);
    const cpuAfter = cpuSeconds(dispatchProcesses());
    const firstRequestMs = (await simulatorStats()).firstRequestAt! - createdAt;
    const timing = await dispatchTiming(sql, mailingId);
    const dispatchRate = timing.sent / timing.dispatch;
    say(`  first request ${firstRequestMs} ms after createMailing (answered in ${createMs} ms); ${timing.sent} sent in ${timing.dispatch.toFixed(1)} s`);
    if (PG_STATS) await printStatementStats(sql);

    // 3. At rest.
    const atRest = { stats: [] as number[], clients: [] as number[] };
    for (let i = 0; i < 200; i++) {
      let t = performance.now();
      await gql(STATS, { id: mailingId });
      atRest.stats.push(performance.now() - t);
      t = performance.now();
      await gql(CLIENTS_PAGE);
      atRest.clients.push(performance.now() - t);
    }

    // 4. The realistic run.
    say(`realistic run (${REALISTIC.toLocaleString('en')} clients)…`);
    await simulatorMode(senderUrl, 'realistic', REALISTIC_BEHAVIOUR);
    const realistic = await gql(CREATE, {
      input: { text: 'Bench message', startAt: new Date().toISOString(), endAt: new Date(Date.now() + 3 * 3600_000).toISOString(), filter: { tags: ['realistic'] } },
    });
    for (let state = 'RUNNING'; state !== 'COMPLETED'; await sleep(200)) state = (await gql(STATS, { id: realistic.createMailing.id })).mailing.status;
    const realisticTiming = await dispatchTiming(sql, realistic.createMailing.id);
    const realisticRate = realisticTiming.sent / realisticTiming.dispatch;
    say(`  ${realisticTiming.sent} sent in ${realisticTiming.dispatch.toFixed(1)} s`);

    // 7. The cost of counting: the dispatching process restarted with metrics off, then on, twice.
    say(`metrics off / on (${METRICS_SAMPLE.toLocaleString('en')} clients a run)…`);
    await simulatorMode(senderUrl, 'fast', FAST_BEHAVIOUR);
    const dispatching = SINGLE ? 0 : 1;
    /** Stops the dispatching process and starts it again with `env` over Herald's (less `without`). */
    const restartDispatching = async (suffix: string, env: Record<string, string>, without: string[] = []) => {
      const old = heralds[dispatching];
      old.child.kill('SIGTERM');
      await new Promise((r) => old.child.once('exit', r));
      const rolePort = SINGLE ? { HERALD_ROLE: 'all', PORT: String(port) } : { HERALD_ROLE: 'worker', PORT: String(await freePort()) };
      heralds[dispatching] = await startHeraldProcess(`${old.name.split('-')[0]}-${suffix}`, { ...rolePort, ...env }, without);
    };
    type MetricsRun = { sent: number; seconds: number; cpuSeconds: number };
    /** A mailing to the metrics sample, timed, with the dispatching process's CPU time. */
    const sampleRun = async (): Promise<MetricsRun> => {
      const worker = { worker: [heralds[dispatching].child.pid!] };
      const cpuStart = cpuSeconds(worker).worker;
      const run = await gql(CREATE, {
        input: { text: 'Bench message', startAt: new Date().toISOString(), endAt: new Date(Date.now() + 3 * 3600_000).toISOString(), filter: { tags: ['metrics'] } },
      });
      for (let state = 'RUNNING'; state !== 'COMPLETED'; await sleep(100)) state = (await gql(STATS, { id: run.createMailing.id })).mailing.status;
      const cpuUsed = cpuSeconds(worker).worker - cpuStart;
      const t = await dispatchTiming(sql, run.createMailing.id);
      return { sent: t.sent, seconds: round(t.dispatch, 3), cpuSeconds: round(cpuUsed, 3) };
    };
    const metricsRuns = { off: [] as MetricsRun[], on: [] as MetricsRun[] };
    for (const enabled of [false, true, false, true, false, true]) {
      await restartDispatching(`metrics-${enabled ? 'on' : 'off'}`, { METRICS_ENABLED: String(enabled) });
      metricsRuns[enabled ? 'on' : 'off'].push(await sampleRun());
    }
    const rateOf = (runs: MetricsRun[]) => Math.max(...runs.map((r) => r.sent / r.seconds));
    // CPU time of the dispatching process per message: what counting costs, less disturbed
    // than the wall clock by whatever else the machine runs meanwhile.
    // The best run of each: another program on the machine only ever makes a run slower.
    const cpuUsOf = (runs: MetricsRun[]) => Math.min(...runs.map((r) => (r.cpuSeconds / r.sent) * 1e6));
    const metricsCost = {
      sample: METRICS_SAMPLE,
      // what Herald's counting adds to one message, timed alone in this process: a gateway
      // request (in flight, duration, result) and its committed result
      countingNsPerMessage: countingCostNs(),
      offMessagesPerSecond: Math.round(rateOf(metricsRuns.off)),
      onMessagesPerSecond: Math.round(rateOf(metricsRuns.on)),
      offCpuUsPerMessage: round(cpuUsOf(metricsRuns.off), 1),
      onCpuUsPerMessage: round(cpuUsOf(metricsRuns.on), 1),
      runs: metricsRuns,
    };
    say(`  off ${metricsCost.offMessagesPerSecond}/s ${metricsCost.offCpuUsPerMessage} µs CPU a message, on ${metricsCost.onMessagesPerSecond}/s ${metricsCost.onCpuUsPerMessage} µs`);

    // 7b. Herald's defaults (issue 21): the dispatching process restarted without the bench's
    // tuning (50 slots, batches of 200, polls of 200 ms), twice, against a 1–2 ms gateway; the
    // undici ceiling at those 50 slots in the same mode comes after Herald has stopped.
    say(`defaults (${METRICS_SAMPLE.toLocaleString('en')} clients a run, ${DEFAULT_CONCURRENCY} slots, a ${DEFAULTS_BEHAVIOUR.latencyMs.join('–')} ms gateway)…`);
    await simulatorMode(senderUrl, 'defaults', DEFAULTS_BEHAVIOUR);
    const defaultsRuns: MetricsRun[] = [];
    for (let i = 0; i < 2; i++) {
      await restartDispatching(`defaults-${i + 1}`, {}, TUNING);
      defaultsRuns.push(await sampleRun());
    }
    say(`  ${Math.round(rateOf(defaultsRuns))} msg/s (best of ${defaultsRuns.length})`);
    await simulatorMode(senderUrl, 'fast', FAST_BEHAVIOUR);

    // 8. Herald over SMPP: the dispatching process restarted with one SMPP provider.
    let smppHerald: { messagesPerSecond: number; seconds: number; cpuPerMessageUs: Record<string, number> } | null = null;
    if (smsc) {
      say(`smpp: Herald (${SMPP_SAMPLE.toLocaleString('en')} clients, ${SMPP_BINDS} binds, window ${SMPP_WINDOW})…`);
      const providersFile = path.join(dataDir, 'providers.json');
      // The password through ${NAME}, as a deploy gives it.
      const smscProvider = { name: 'smsc', type: 'smpp', host: smsc.host, port: smsc.port, systemId: SMSC.systemId, password: '${BENCH_SMSC_PASSWORD}', sourceAddr: 'Herald', binds: SMPP_BINDS, window: SMPP_WINDOW };
      await writeFile(providersFile, JSON.stringify({ providers: [smscProvider], routes: [{ providers: ['smsc'] }] }));
      await restartDispatching('smpp', { PROVIDERS_FILE: providersFile, BENCH_SMSC_PASSWORD: SMSC.password }, ['SENDER_URL', 'SENDER_TOKEN']);
      await smsc.reset();
      const processes = () => ({ ...Object.fromEntries(heralds.map((h) => [h.name.split('-')[0], [h.child.pid!]])), smsc: [smsc.child.pid!], postgres: pgPids() });
      const before = cpuSeconds(processes());
      const run = await gql(CREATE, {
        input: { text: 'Bench message', startAt: new Date().toISOString(), endAt: new Date(Date.now() + 3 * 3600_000).toISOString(), filter: { tags: ['smpp'] } },
      });
      for (let state = 'RUNNING'; state !== 'COMPLETED'; await sleep(100)) state = (await gql(STATS, { id: run.createMailing.id })).mailing.status;
      const after = cpuSeconds(processes());
      const t = await dispatchTiming(sql, run.createMailing.id);
      const [counts] = await sql<{ total: number; sent: number; bySmsc: number }[]>`
        select count(*)::int as total, count(*) filter (where status in ('SENT', 'DELIVERED', 'UNDELIVERED'))::int as sent,
               count(*) filter (where provider = 'smsc' and provider_message_id is not null)::int as "bySmsc"
        from messages where mailing_id = ${run.createMailing.id}`;
      if (counts.total !== SMPP_SAMPLE || counts.sent !== SMPP_SAMPLE || counts.bySmsc !== SMPP_SAMPLE) {
        throw new Error(`smpp: of ${SMPP_SAMPLE} clients, ${counts.total} messages, ${counts.sent} SENT, ${counts.bySmsc} sent by the SMSC with its message_id`);
      }
      checkSmsc('smpp, Herald', await smsc.stats(), SMPP_SAMPLE, SMPP_BINDS, SMPP_WINDOW);
      smppHerald = {
        messagesPerSecond: Math.round(t.sent / t.dispatch),
        seconds: round(t.dispatch),
        cpuPerMessageUs: Object.fromEntries(Object.keys(after).map((k) => [k, round(((after[k] - before[k]) / SMPP_SAMPLE) * 1e6, 1)])),
      };
      say(`  ${t.sent} sent in ${t.dispatch.toFixed(1)} s: ${smppHerald.messagesPerSecond} msg/s`);
    }

    // Herald is done; the ceilings and baseline get the machine without it.
    for (const h of heralds) {
      h.child.kill('SIGTERM');
      await new Promise((r) => h.child.once('exit', r));
    }

    // 5. Ceilings.
    // Each in the mode it is named for, set and read back first: step 7 left the simulator
    // fast, and a realistic ceiling measured fast is what made ratio.realistic 0.06 (issue 21).
    say('ceiling, realistic…');
    await simulatorMode(senderUrl, 'realistic', REALISTIC_BEHAVIOUR);
    const realisticRequestsBefore = (await simulatorStats()).requests;
    const realisticCeilingRate = await ceiling(senderUrl, REALISTIC, CONCURRENCY);
    const realisticCeilingRequests = (await simulatorStats()).requests - realisticRequestsBefore;
    await simulatorMode(senderUrl, 'fast', FAST_BEHAVIOUR);
    say('ceiling…');
    const simulatorBefore = cpuSeconds({ simulator: [simulator.pid!] });
    const clientBefore = process.cpuUsage();
    const ceilingRequestsBefore = (await simulatorStats()).requests;
    const ceilingRate = await ceiling(senderUrl, CLIENTS, CONCURRENCY);
    const ceilingRequests = (await simulatorStats()).requests - ceilingRequestsBefore;
    const clientCpu = process.cpuUsage(clientBefore);
    const simulatorAfter = cpuSeconds({ simulator: [simulator.pid!] });
    const perMessage = (seconds: number) => round((seconds / CLIENTS) * 1e6, 1);
    const cpuPerMessageUs = {
      dispatch: Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, perMessage(cpuAfter[k] - cpuBefore[k])])),
      ceiling: {
        client: perMessage((clientCpu.user + clientCpu.system) / 1e6),
        simulator: perMessage(simulatorAfter.simulator - simulatorBefore.simulator),
      },
    };

    // The ceiling of step 7b: its mode, its concurrency, as many requests as a run.
    say('ceiling, defaults…');
    await simulatorMode(senderUrl, 'defaults', DEFAULTS_BEHAVIOUR);
    const defaultsCeilingBefore = (await simulatorStats()).requests;
    const defaultsCeilingRate = await ceiling(senderUrl, METRICS_SAMPLE, DEFAULT_CONCURRENCY);
    const defaultsCeilingRequests = (await simulatorStats()).requests - defaultsCeilingBefore;
    await simulatorMode(senderUrl, 'fast', FAST_BEHAVIOUR);

    // 6. Baseline.
    say('baseline…');
    const baselineRate = await baseline(pg.url, senderUrl, sql, Number(mailingId), BASELINE_SAMPLE, CONCURRENCY);

    // 9. The SMPP ceiling.
    let smppResult: Record<string, unknown> | null = null;
    let smppRatio: number | null = null;
    if (smsc && smppHerald) {
      say('smpp: ceiling…');
      // A warm-up of each first, so that neither is measured while V8 is still compiling it.
      const warmUp = Math.min(5_000, SMPP_SAMPLE);
      await smppCeiling(smsc.host, smsc.port, warmUp, SMPP_BINDS, SMPP_WINDOW);
      await smppAdapterAlone(smsc.host, smsc.port, warmUp, SMPP_BINDS, SMPP_WINDOW);
      await smsc.reset();
      const smscBefore = cpuSeconds({ smsc: [smsc.child.pid!] }).smsc;
      const clientBefore = process.cpuUsage();
      const rate = await smppCeiling(smsc.host, smsc.port, SMPP_SAMPLE, SMPP_BINDS, SMPP_WINDOW);
      const clientCpu = process.cpuUsage(clientBefore);
      const smscCpu = cpuSeconds({ smsc: [smsc.child.pid!] }).smsc - smscBefore;
      // (its sessions have just unbound: the count of open ones is not the ceiling's to check)
      checkSmsc('smpp, ceiling', await smsc.stats(), SMPP_SAMPLE, null, SMPP_WINDOW);
      await smsc.reset();
      const adapterBefore = process.cpuUsage();
      const adapterRate = await smppAdapterAlone(smsc.host, smsc.port, SMPP_SAMPLE, SMPP_BINDS, SMPP_WINDOW);
      const adapterCpu = process.cpuUsage(adapterBefore);
      checkSmsc('smpp, adapter alone', await smsc.stats(), SMPP_SAMPLE, null, SMPP_WINDOW);
      const perMessage = (seconds: number) => round((seconds / SMPP_SAMPLE) * 1e6, 1);
      smppResult = {
        clients: SMPP_SAMPLE,
        binds: SMPP_BINDS,
        window: SMPP_WINDOW,
        messagesPerSecond: smppHerald.messagesPerSecond,
        seconds: smppHerald.seconds,
        ceilingMessagesPerSecond: Math.round(rate),
        adapterAloneMessagesPerSecond: Math.round(adapterRate),
        cpuPerMessageUs: {
          dispatch: smppHerald.cpuPerMessageUs,
          ceiling: { client: perMessage((clientCpu.user + clientCpu.system) / 1e6), smsc: perMessage(smscCpu) },
          adapterAlone: perMessage((adapterCpu.user + adapterCpu.system) / 1e6),
        },
      };
      smppRatio = round(smppHerald.messagesPerSecond / rate, 2);
      say(`  ${Math.round(rate)} msg/s; the adapter alone ${Math.round(adapterRate)} msg/s`);
    }

    const result = {
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGb: round(totalmem() / 2 ** 30), node: process.version },
      clients: CLIENTS,
      concurrency: CONCURRENCY,
      import: { clientsPerSecond: Math.round(TOTAL / importSeconds), seconds: round(importSeconds) },
      // createMailing (startAt now) → the gateway's first request; the answer itself already RUNNING
      start: { firstRequestMs, createMailingMs: createMs },
      heraldProcesses: heralds.map((h) => h.name),
      dispatch: {
        messagesPerSecond: Math.round(dispatchRate),
        seconds: round(timing.dispatch),
        peakRssMb: Math.round(peakTotal),
        peakRssMbByProcess: Object.fromEntries([...peaks].map(([name, mb]) => [name, Math.round(mb)])),
      },
      // CPU time (user + system) per message, during the dispatch and during the ceiling run:
      // where the two cores went.
      cpuPerMessageUs,
      ceiling: { messagesPerSecond: Math.round(ceilingRate) },
      realistic: {
        clients: REALISTIC,
        behaviour: REALISTIC_BEHAVIOUR,
        messagesPerSecond: Math.round(realisticRate),
        seconds: round(realisticTiming.dispatch),
        ceilingMessagesPerSecond: Math.round(realisticCeilingRate),
      },
      baseline: { messagesPerSecond: Math.round(baselineRate), sample: BASELINE_SAMPLE },
      // the same dispatch with METRICS_ENABLED=false and =true (fast gateway)
      metrics: metricsCost,
      // Herald as it ships (no SENDER_CONCURRENCY, DISPATCH_BATCH_SIZE, DISPATCH_POLL_MS) against
      // a 1–2 ms gateway, and undici alone at the same 50 slots
      defaults: {
        sample: METRICS_SAMPLE,
        concurrency: DEFAULT_CONCURRENCY,
        behaviour: DEFAULTS_BEHAVIOUR,
        messagesPerSecond: Math.round(rateOf(defaultsRuns)),
        cpuUsPerMessage: round(cpuUsOf(defaultsRuns), 1),
        ceilingMessagesPerSecond: Math.round(defaultsCeilingRate),
        runs: defaultsRuns,
      },
      ratio: {
        ceiling: round(dispatchRate / ceilingRate, 2),
        baseline: round(dispatchRate / baselineRate, 2),
        realistic: round(realisticRate / realisticCeilingRate, 2),
        metricsOnOff: round(rateOf(metricsRuns.on) / rateOf(metricsRuns.off), 3),
        metricsCpuOnOff: round(cpuUsOf(metricsRuns.on) / cpuUsOf(metricsRuns.off), 3),
        defaults: round(rateOf(defaultsRuns) / defaultsCeilingRate, 2),
        ...(smsc ? { smppCeiling: smppRatio } : {}),
      },
      // --smpp: Herald through a PROVIDERS_FILE of one SMPP provider, and the smpp package alone
      ...(smppResult ? { smpp: smppResult } : {}),
      latency: {
        statsP50Ms: round(percentile(during.stats, 50)),
        statsP99Ms: round(percentile(during.stats, 99)),
        graphqlP50Ms: round(percentile(during.clients, 50)),
        graphqlP99Ms: round(percentile(during.clients, 99)),
        atRest: {
          statsP50Ms: round(percentile(atRest.stats, 50)),
          statsP99Ms: round(percentile(atRest.stats, 99)),
          graphqlP50Ms: round(percentile(atRest.clients, 50)),
          graphqlP99Ms: round(percentile(atRest.clients, 99)),
        },
      },
    };
    const broken = checkInvariants(result, {
      dispatchSent: timing.sent,
      realisticSent: realisticTiming.sent,
      metricsSent: [...metricsRuns.off, ...metricsRuns.on].map((r) => r.sent),
      defaultsSent: defaultsRuns.map((r) => r.sent),
      defaultsCeilingRequests,
      ceilingRequests,
      realisticCeilingRequests,
    });
    if (!JSON_ONLY) printTable(result);
    console.log(JSON.stringify({ ...result, invariants: { broken } }));
    if (broken.length > 0) {
      for (const b of broken) process.stderr.write(`bench: invariant broken: ${b}\n`);
      exitCode = 1;
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    if (KEEP) process.stderr.write(`logs and data kept in ${dataDir}\n`);
    else await rm(dataDir, { recursive: true, force: true });
  }
}

/** The mean latency (ms) of a simulator behaviour: uniform range, then the tail's share at tailMs. */
function meanLatencyMs(b: { latencyMs: number | number[]; tailRate: number; tailMs: number }): number {
  const base = Array.isArray(b.latencyMs) ? (b.latencyMs[0] + b.latencyMs[1]) / 2 : b.latencyMs;
  return (1 - b.tailRate) * base + b.tailRate * b.tailMs;
}

/** Slack on the latency bound: a finite sample's mean latency can come out a little under the behaviour's. */
const LATENCY_BOUND_SLACK = 1.1;

/**
 * What the bench's own figures must satisfy, or they measure something else than they say
 * (issue 21: a realistic ceiling measured in fast mode, 15× over what its latencies allow).
 * Each broken one is returned by name, with the figures; the bench then exits non-zero.
 */
function checkInvariants(
  r: any,
  seen: {
    dispatchSent: number;
    realisticSent: number;
    metricsSent: number[];
    defaultsSent: number[];
    defaultsCeilingRequests: number;
    ceilingRequests: number;
    realisticCeilingRequests: number;
  },
): string[] {
  const broken: string[] = [];
  const check = (name: string, ok: boolean, detail: string) => void (ok || broken.push(`${name}: ${detail}`));
  // Little's law: no more than `concurrency` requests in flight, each taking the mean latency.
  const bound = (r.concurrency / meanLatencyMs(REALISTIC_BEHAVIOUR)) * 1000;
  check(
    'realistic.ceilingMessagesPerSecond ≤ concurrency ÷ mean latency',
    r.realistic.ceilingMessagesPerSecond <= bound * LATENCY_BOUND_SLACK,
    `${r.realistic.ceilingMessagesPerSecond} msg/s > ${Math.round(bound)} (${r.concurrency} ÷ ${round(meanLatencyMs(REALISTIC_BEHAVIOUR))} ms, ×${LATENCY_BOUND_SLACK} slack)`,
  );
  check(
    'realistic.messagesPerSecond ≤ concurrency ÷ mean latency',
    r.realistic.messagesPerSecond <= bound * LATENCY_BOUND_SLACK,
    `${r.realistic.messagesPerSecond} msg/s > ${Math.round(bound)}`,
  );
  check(
    'realistic.ceilingMessagesPerSecond ≤ ceiling.messagesPerSecond',
    r.realistic.ceilingMessagesPerSecond <= r.ceiling.messagesPerSecond,
    `the realistic ceiling ${r.realistic.ceilingMessagesPerSecond} msg/s over the fast one ${r.ceiling.messagesPerSecond}`,
  );
  check('dispatch sent every message', seen.dispatchSent === r.clients, `${seen.dispatchSent} sent of ${r.clients}`);
  // 1% answered 5xx are retried: every message of the realistic run ends sent.
  check('realistic run sent every message', seen.realisticSent === r.realistic.clients, `${seen.realisticSent} sent of ${r.realistic.clients}`);
  check('metrics runs sent every message', seen.metricsSent.every((n) => n === r.metrics.sample), `${seen.metricsSent.join(', ')} sent of ${r.metrics.sample} each`);
  check('defaults runs sent every message', seen.defaultsSent.every((n) => n === r.defaults.sample), `${seen.defaultsSent.join(', ')} sent of ${r.defaults.sample} each`);
  check('defaults ceiling made one request a message', seen.defaultsCeilingRequests === r.defaults.sample, `the simulator saw ${seen.defaultsCeilingRequests} requests for ${r.defaults.sample}`);
  // Little's law again: 50 slots at a latency of at least 1 ms.
  const defaultsBound = (r.defaults.concurrency / meanLatencyMs(DEFAULTS_BEHAVIOUR)) * 1000 * LATENCY_BOUND_SLACK;
  check('defaults.ceilingMessagesPerSecond ≤ concurrency ÷ mean latency', r.defaults.ceilingMessagesPerSecond <= defaultsBound, `${r.defaults.ceilingMessagesPerSecond} msg/s > ${Math.round(defaultsBound)}`);
  check('defaults.messagesPerSecond ≤ concurrency ÷ mean latency', r.defaults.messagesPerSecond <= defaultsBound, `${r.defaults.messagesPerSecond} msg/s > ${Math.round(defaultsBound)}`);
  check('ceiling made one request a message', seen.ceilingRequests === r.clients, `the simulator saw ${seen.ceilingRequests} requests for ${r.clients}`);
  check(
    'realistic ceiling made one request a message',
    seen.realisticCeilingRequests === r.realistic.clients,
    `the simulator saw ${seen.realisticCeilingRequests} requests for ${r.realistic.clients}`,
  );
  for (const [name, value] of Object.entries(r.ratio as Record<string, number | null>)) {
    check(`ratio.${name} is a positive number`, value === null || (Number.isFinite(value) && value > 0), `ratio.${name} = ${value}`);
  }
  return broken;
}

/** Nanoseconds of Herald's counting per message, as the dispatcher and gateway client do it. */
function countingCostNs(): number {
  const metrics = new Metrics(createLogger('silent'), { queue: async () => ({ mailingsByStatus: new Map(), messagesDue: 0, running: [] }), cacheMs: 0 });
  const rows = Array.from({ length: 500 }, (_, i) => ({ status: i % 10 ? 'SENT' : 'PENDING', attempted: true }));
  const batch = () => {
    for (let i = 0; i < rows.length; i++) metrics.gatewayRequest('default')(i % 10 ? 'sent' : 'retryable');
    metrics.messageResults(rows);
  };
  for (let i = 0; i < 200; i++) batch(); // warm-up
  const rounds = 2_000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) batch();
  return Math.round(Number(process.hrtime.bigint() - started) / (rounds * rows.length));
}

/**
 * n submit_sm straight from the `smpp` package's client to the SMSC: `binds` sessions, each
 * with at most `window` unacknowledged, the same PDU Herald writes for a one-part GSM text.
 * Every one must be accepted. The sessions unbind once done.
 */
async function smppCeiling(host: string, port: number, n: number, binds: number, window: number): Promise<number> {
  const sessions = await Promise.all(
    Array.from(
      { length: binds },
      () =>
        new Promise<smpp.Session>((resolve, reject) => {
          const session = smpp.connect({ host, port }, () => {
            session.socket.setNoDelay(true); // as Herald's sessions
            session.bind_transceiver({ system_id: SMSC.systemId, password: SMSC.password, interface_version: 0x34 }, (pdu) =>
              pdu.command_status === 0 ? resolve(session) : reject(new Error(`smpp ceiling: bind refused (${pdu.command_status})`)),
            );
          });
          session.on('error', reject);
        }),
    ),
  );
  let next = 0;
  let refused = 0;
  // The text encoded once, as Herald does (providers/smpp.parts.ts encodeForSmpp): the
  // package's coder per message would cost the ceiling what Herald no longer pays.
  const text = smpp.encodings.ASCII.encode('Bench message');
  const started = performance.now();
  await Promise.all(
    sessions.map(
      (session) =>
        new Promise<void>((resolve, reject) => {
          let unacknowledged = 0;
          session.on('close', () => reject(new Error('smpp ceiling: the SMSC closed a session')));
          const pump = () => {
            while (unacknowledged < window && next < n) {
              const i = next++;
              unacknowledged++;
              const pdu = new smpp.PDU('submit_sm', {
                source_addr_ton: 5,
                source_addr_npi: 0,
                source_addr: 'Herald',
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: `79${String(i).padStart(9, '0')}`,
                data_coding: 0,
                esm_class: 0,
                short_message: text,
              });
              session.send(pdu, (answer) => {
                unacknowledged--;
                if (answer.command_status !== 0) refused++;
                pump();
              });
            }
            if (next >= n && unacknowledged === 0) resolve();
          };
          pump();
        }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const session of sessions) {
    session.removeAllListeners('close');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1_000);
      session.unbind({}, () => (clearTimeout(timer), resolve()));
    });
    session.destroy();
  }
  if (refused > 0) throw new Error(`smpp ceiling: ${refused} of ${n} submit_sm refused by the SMSC in fast mode`);
  return n / seconds;
}

/** n messages through Herald's SmppSender in this process, binds × window of them in flight: every one must be sent. */
async function smppAdapterAlone(host: string, port: number, n: number, binds: number, window: number): Promise<number> {
  const sender = new SmppSender({
    name: 'smsc',
    host,
    port,
    systemId: SMSC.systemId,
    password: SMSC.password,
    sourceAddr: 'Herald',
    binds,
    window,
    requestTimeoutMs: 10_000,
    enquireLinkMs: 30_000,
    reconnectMinMs: 100,
    reconnectMaxMs: 1_000,
    log: createLogger('silent'),
  });
  await sender.ready();
  if (sender.state().state !== 'UP') throw new Error(`smpp adapter alone: ${sender.state().reason}`);
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: binds * window }, async () => {
      while (next < n) {
        const i = next++;
        const outcome = await sender.send({ id: i + 1, phone: `79${String(i).padStart(9, '0')}`, text: 'Bench message' }, Date.now() + 10_000).outcome;
        if (outcome.kind !== 'sent') failed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await sender.close();
  if (failed > 0) throw new Error(`smpp adapter alone: ${failed} of ${n} not sent in fast mode`);
  return n / seconds;
}

/** From a mailing's start to its last SENT, and how many were sent (a receipt since, DELIVERED or UNDELIVERED, was sent too). */
async function dispatchTiming(sql: postgres.Sql, mailingId: string) {
  const [timing] = await sql<{ dispatch: number; sent: number }[]>`
    select extract(epoch from max(m.sent_at) - g.started_at)::float8 as dispatch,
           count(*) filter (where m.status in ('SENT', 'DELIVERED', 'UNDELIVERED'))::int as sent
    from mailings g join messages m on m.mailing_id = g.id where g.id = ${mailingId} group by g.id`;
  return timing;
}

/**
 * Puts the simulator in the bench's `name` mode (its steady mode with `behaviour`), then reads
 * its state back from `/_sim/stats` and throws unless it is that: a run named for a mode is
 * never measured in another.
 */
async function simulatorMode(senderUrl: string, name: string, behaviour: Record<string, unknown>): Promise<void> {
  const mode = await fetch(`${senderUrl}/_sim/mode`, { method: 'POST', body: JSON.stringify({ mode: 'steady' }) });
  if (!mode.ok) throw new Error(`the simulator refused its steady mode: ${mode.status}`);
  await mode.body?.cancel();
  const res = await fetch(`${senderUrl}/_sim/behaviour`, { method: 'POST', body: JSON.stringify(behaviour) });
  if (!res.ok) throw new Error(`the simulator refused its ${name} behaviour: ${res.status}`);
  await res.body?.cancel();
  const state = (await (await fetch(`${senderUrl}/_sim/stats`)).json()) as { mode: string; behaviour: Record<string, unknown> };
  const wrong = Object.keys(behaviour).filter((k) => JSON.stringify(state.behaviour[k]) !== JSON.stringify(behaviour[k]));
  if (state.mode !== 'steady' || wrong.length > 0) {
    throw new Error(`the simulator is not in ${name} mode: it reads back mode ${state.mode}, ${wrong.map((k) => `${k} ${JSON.stringify(state.behaviour[k])}`).join(', ') || 'behaviour as set'}`);
  }
}

/** N requests straight from one undici pool to the simulator: what the gateway side allows. */
async function ceiling(url: string, n: number, concurrency: number): Promise<number> {
  const pool = new Pool(url, { connections: concurrency });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const id = ++next;
        const res = await pool.request({
          method: 'POST',
          path: `/send/${id}`,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_TOKEN}` },
          body: JSON.stringify({ id, phone: 79000000000 + id, text: 'Bench message' }),
        });
        await res.body.text();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.destroy();
  return n / seconds;
}

/**
 * The naive design Herald avoids: one pg-boss job per message, each job reading its
 * message, sending it and writing its row. Given its best chance: 8 workers polling as fast
 * as pg-boss allows (0.5 s) with large batches, each batch sent with as many requests in
 * flight as Herald has.
 */
async function baseline(databaseUrl: string, gatewayUrl: string, sql: postgres.Sql, mailingId: number, n: number, concurrency: number): Promise<number> {
  const boss = new PgBoss({ connectionString: databaseUrl, max: 8, schedule: false, supervise: false });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('baseline-send');
  // Reset a sample of the benchmark's messages and enqueue one job for each.
  const ids = (await sql<{ id: string }[]>`select id from messages where mailing_id = ${mailingId} order by id limit ${n}`).map((r) => Number(r.id));
  await sql`update messages set status = 'PENDING', sent_at = null where id = any(${ids}::bigint[])`;
  for (let i = 0; i < ids.length; i += 5_000) {
    await boss.insert(ids.slice(i, i + 5_000).map((id) => ({ name: 'baseline-send', data: { id } })));
  }
  const pool = new Pool(gatewayUrl, { connections: concurrency });
  const writer = postgres(databaseUrl, { max: 8, onnotice: () => {} });
  let done = 0;
  const started = performance.now();
  const workers = 8;
  for (let w = 0; w < workers; w++) {
    await boss.work<{ id: number }>('baseline-send', { batchSize: 500, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      let next = 0;
      const lanes = Math.max(1, Math.ceil(concurrency / workers));
      await Promise.all(
        Array.from({ length: lanes }, async () => {
          while (next < jobs.length) {
          const job = jobs[next++];
          const [m] = await writer`select phone from messages where id = ${job.data.id}`;
          const res = await pool.request({
            method: 'POST',
            path: `/send/${job.data.id}`,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${GATEWAY_TOKEN}` },
            body: JSON.stringify({ id: job.data.id, phone: Number(m.phone), text: 'Bench message' }),
          });
          await res.body.text();
          await writer`update messages set status = 'SENT', sent_at = now(), attempts = attempts + 1 where id = ${job.data.id}`;
          done++;
          }
        }),
      );
    });
  }
  while (done < ids.length) await sleep(50);
  const seconds = (performance.now() - started) / 1000;
  await boss.stop({ graceful: false, wait: true, timeout: 5_000 });
  await pool.destroy();
  await writer.end();
  return ids.length / seconds;
}

/** The fields of /proc/<pid>/stat after the command name (field 3 on); empty once it is gone. */
function procStat(pid: number | string): string[] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return [];
  }
}

/** CPU seconds (user + system) used so far by each group of processes. */
function cpuSeconds(groups: Record<string, number[]>): Record<string, number> {
  const ticks = 100; // USER_HZ
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(groups)) {
    // utime and stime: fields 14 and 15
    out[name] = pids.reduce((sum, pid) => {
      const fields = procStat(pid);
      return sum + (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / ticks;
    }, 0);
  }
  return out;
}

/** The server's processes: the postmaster and its children (backends, writers, workers). */
async function postgresPids(sql: postgres.Sql): Promise<() => number[]> {
  const [{ pid }] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const postmaster = Number(procStat(pid)[1]); // ppid: field 4
  return () => [
    postmaster,
    ...readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry) && Number(procStat(entry)[1]) === postmaster)
      .map(Number),
  ];
}

async function printStatementStats(sql: postgres.Sql) {
  const top = await sql<{ ms: number; calls: number; rows: number; max: number; query: string }[]>`
    select round(total_exec_time)::float8 as ms, calls::int, rows::int, round(max_exec_time)::float8 as max,
           regexp_replace(query, '\\s+', ' ', 'g') as query
    from pg_stat_statements order by total_exec_time desc limit 15`;
  process.stderr.write('\nPostgreSQL time by statement (ms, calls, rows, slowest ms):\n');
  for (const s of top) {
    process.stderr.write(`${String(s.ms).padStart(8)} ${String(s.calls).padStart(7)} ${String(s.rows).padStart(8)} ${String(s.max).padStart(6)}  ${s.query.slice(0, 140)}\n`);
  }
}

function printTable(r: any) {
  const rows: [string, string, string][] = [
    ['import', `${r.import.clientsPerSecond.toLocaleString('en')} clients/s`, `${r.clients.toLocaleString('en')} in ${r.import.seconds} s`],
    ['start: createMailing → first request', `${r.start.firstRequestMs} ms`, `createMailing answered RUNNING in ${r.start.createMailingMs} ms; target ≤ 1000 ms`],
    ['dispatch, end to end', `${r.dispatch.messagesPerSecond.toLocaleString('en')} msg/s`, `${r.dispatch.seconds} s; target ≥ 5,000/s`],
    ['Herald peak RSS', `${r.dispatch.peakRssMb} MB`, `${Object.entries(r.dispatch.peakRssMbByProcess).map(([n, mb]) => `${n} ${mb}`).join(', ')}; target ≤ 400 MB`],
    ['ceiling (undici → simulator)', `${r.ceiling.messagesPerSecond.toLocaleString('en')} msg/s`, `Herald/ceiling ${r.ratio.ceiling}; target ≥ 0.6`],
    ['realistic gateway: Herald', `${r.realistic.messagesPerSecond.toLocaleString('en')} msg/s`, `${r.realistic.clients.toLocaleString('en')} in ${r.realistic.seconds} s`],
    ['realistic gateway: ceiling', `${r.realistic.ceilingMessagesPerSecond.toLocaleString('en')} msg/s`, `Herald/ceiling ${r.ratio.realistic}; target ≥ 0.9`],
    ['baseline (job per message)', `${r.baseline.messagesPerSecond.toLocaleString('en')} msg/s`, `Herald/baseline ${r.ratio.baseline}; target ≥ 4`],
    [
      `defaults (${r.defaults.concurrency} slots, ${r.defaults.behaviour.latencyMs.join('–')} ms gateway)`,
      `${r.defaults.messagesPerSecond.toLocaleString('en')} msg/s`,
      `ceiling at ${r.defaults.concurrency} slots ${r.defaults.ceilingMessagesPerSecond.toLocaleString('en')} msg/s, Herald/ceiling ${r.ratio.defaults}; target ≥ 0.6`,
    ],
    [
      'dispatch with metrics on / off',
      `${r.metrics.onMessagesPerSecond.toLocaleString('en')} / ${r.metrics.offMessagesPerSecond.toLocaleString('en')} msg/s`,
      `on/off ${r.ratio.metricsOnOff} (${r.metrics.sample.toLocaleString('en')} a run, best of three each)`,
    ],
    [
      'worker CPU per message, metrics on / off',
      `${r.metrics.onCpuUsPerMessage} / ${r.metrics.offCpuUsPerMessage} µs`,
      `on/off ${r.ratio.metricsCpuOnOff}`,
    ],
    [
      'counting alone, per message',
      `${r.metrics.countingNsPerMessage} ns`,
      `${round((r.metrics.countingNsPerMessage / 1000 / r.metrics.offCpuUsPerMessage) * 100, 2)}% of the worker's CPU per message`,
    ],
    ['stats p50 / p99, dispatching', `${r.latency.statsP50Ms} / ${r.latency.statsP99Ms} ms`, 'target p99 ≤ 10 ms'],
    ['clients page p50 / p99, dispatching', `${r.latency.graphqlP50Ms} / ${r.latency.graphqlP99Ms} ms`, 'target p99 ≤ 100 ms'],
    ['stats p50 / p99, at rest', `${r.latency.atRest.statsP50Ms} / ${r.latency.atRest.statsP99Ms} ms`, ''],
    ['clients page p50 / p99, at rest', `${r.latency.atRest.graphqlP50Ms} / ${r.latency.atRest.graphqlP99Ms} ms`, ''],
  ];
  const w = [Math.max(...rows.map((x) => x[0].length)), Math.max(...rows.map((x) => x[1].length))];
  process.stderr.write(`\n${r.machine.cores} cores, ${r.machine.cpu}, ${r.machine.memoryGb} GB, Node ${r.machine.node}\n`);
  for (const [a, b, c] of rows) process.stderr.write(`${a.padEnd(w[0])}  ${b.padStart(w[1])}  ${c}\n`);
  const cpu = (o: Record<string, number>) => Object.entries(o).map(([n, us]) => `${n} ${us}`).join(', ');
  process.stderr.write(`CPU µs per message: dispatch: ${cpu(r.cpuPerMessageUs.dispatch)}; ceiling: ${cpu(r.cpuPerMessageUs.ceiling)}\n`);
  if (r.smpp) {
    const s = r.smpp;
    process.stderr.write(
      `SMPP (${s.clients.toLocaleString('en')} messages, ${s.binds} binds, window ${s.window}): Herald ${s.messagesPerSecond.toLocaleString('en')} msg/s, ` +
        `ceiling (smpp package) ${s.ceilingMessagesPerSecond.toLocaleString('en')} msg/s, Herald/ceiling ${r.ratio.smppCeiling}; target ≥ 0.6; ` +
        `SmppSender alone ${s.adapterAloneMessagesPerSecond.toLocaleString('en')} msg/s\n` +
        `  CPU µs per message: dispatch: ${cpu(s.cpuPerMessageUs.dispatch)}; ceiling: ${cpu(s.cpuPerMessageUs.ceiling)}; SmppSender alone: ${s.cpuPerMessageUs.adapterAlone}\n`,
    );
  }
  process.stderr.write('\n');
}

/** The queries the load's GraphQL clients take turns at (viewers: no mutations). */
const LOAD_OPERATIONS: Record<string, string> = {
  mailingStats: 'query($id: ID!) { mailing(id: $id) { status stats { total pending sent failed } } }',
  clientsPage: '{ clients(first: 50) { edges { node { id phone tags } } } }',
  mailingsPage: '{ mailings(first: 20) { totalCount edges { node { id name status stats { total sent failed } } } } }',
  statistics: '{ statistics { mailingCount messages { total sent failed } } }',
  messagesPage: 'query($id: ID!) { mailing(id: $id) { messages(first: 50) { edges { node { id status attempts } } } } }',
};

/**
 * --load: Herald's dispatch rate with nothing else going on, then again for a second mailing
 * to the same clients while GraphQL clients and subscribers load its api process.
 */
async function mainLoad() {
  const graphqlClients = Number(flag('graphql-clients') ?? 200);
  const subscribers = Number(flag('subscribers') ?? 500);
  const thinkMs = Number(flag('think-ms') ?? 1000);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'herald-bench-load-'));
  const cleanups: (() => Promise<unknown> | void)[] = [];
  try {
    say(`bench --load: ${CLIENTS.toLocaleString('en')} clients, ${graphqlClients} GraphQL clients (think ${thinkMs} ms), ${subscribers} subscribers, ${cpus().length} cores`);
    const { pg, senderUrl } = await startDatabaseAndGateway(dataDir, cleanups);
    await simulatorMode(senderUrl, 'fast', FAST_BEHAVIOUR);
    // One viewer token per GraphQL client: each has its own cost budget, as separate users would;
    // the subscribers share them, a few sockets a token (within WS_MAX_CONNECTIONS_PER_TOKEN).
    const tokenCount = Math.max(1, graphqlClients, Math.ceil(subscribers / 5));
    const viewerTokens = Array.from({ length: tokenCount }, (_, i) => `bench-viewer-${String(i).padStart(4, '0')}-0123456789`);
    const port = await freePort();
    const heraldUrl = `http://127.0.0.1:${port}`;
    const heraldEnv = {
      DATABASE_URL: pg.url,
      API_TOKENS: [`admin:${TOKEN}`, ...viewerTokens.map((t) => `viewer:${t}`)].join(','),
      SENDER_URL: senderUrl,
      SENDER_TOKEN: GATEWAY_TOKEN,
      SENDER_CONCURRENCY: String(CONCURRENCY),
      DISPATCH_BATCH_SIZE: '500',
      DISPATCH_POLL_MS: '50',
      LOG_LEVEL: flag('log-level') ?? 'info',
    };
    const heralds: { name: string; child: ChildProcess }[] = [];
    for (const [name, role, p] of [['api', 'api', port], ['worker', 'worker', await freePort()]] as const) {
      const logFile = path.join(dataDir, `${name}.log`);
      // --node-args (e.g. --cpu-prof) apply to the api process, the one under load.
      const child = spawnHerald({ ...heraldEnv, HERALD_ROLE: role, PORT: String(p) }, openSync(logFile, 'w'), role === 'api' ? (flag('node-args')?.split(' ') ?? []) : []);
      cleanups.push(() => void child.kill('SIGTERM'));
      await waitForLog(logFile, '"msg":"Herald is listening"');
      heralds.push({ name, child });
    }
    const admin = new Pool(heraldUrl, { connections: 4 });
    cleanups.push(() => admin.destroy());
    const gql = async (pool: Pool, token: string, query: string, variables: Record<string, unknown> = {}) => {
      const res = await pool.request({
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.body.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
    };
    const ok = async (query: string, variables: Record<string, unknown> = {}) => {
      const body = await gql(admin, TOKEN, query, variables);
      if (!body.data || body.errors) throw new Error(`GraphQL failed: ${JSON.stringify(body).slice(0, 500)}`);
      return body.data;
    };

    say('importing…');
    const IMPORT = `mutation($input: [CreateClientInput!]!) { importClients(input: $input) { imported } }`;
    for (let from = 0; from < CLIENTS; from += 10_000) {
      const input = Array.from({ length: Math.min(10_000, CLIENTS - from) }, (_, j) => ({ phone: `79${String(from + j).padStart(9, '0')}`, timezone: 'Europe/Moscow', tags: ['load'] }));
      await ok(IMPORT, { input });
    }
    const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    cleanups.push(() => sql.end());
    const CREATE = `mutation($input: CreateMailingInput!) { createMailing(input: $input) { id status } }`;
    const STATUS = `query($id: ID!) { mailing(id: $id) { status } }`;
    const mailing = async (startInMs: number) =>
      (
        await ok(CREATE, {
          input: { text: 'Load bench', startAt: new Date(Date.now() + startInMs).toISOString(), endAt: new Date(Date.now() + 3 * 3600_000).toISOString(), filter: { tags: ['load'] } },
        })
      ).createMailing.id as string;
    const completion = async (id: string) => {
      while ((await ok(STATUS, { id })).mailing.status !== 'COMPLETED') await sleep(200);
      return dispatchTiming(sql, id);
    };

    say('dispatch with no load…');
    const quiet = await completion(await mailing(0));
    const quietRate = quiet.sent / quiet.dispatch;
    say(`  ${quiet.sent} sent in ${quiet.dispatch.toFixed(1)} s: ${Math.round(quietRate)} msg/s`);

    say('dispatch under load…');
    // It starts once the subscribers are in; latencies count from its start.
    const loadedStartsAt = performance.now() + 8_000;
    const loadedId = await mailing(8_000);
    // The subscribers: one socket each, following the mailing's progress.
    const firstEventMs: number[] = [];
    const subscriberErrors: string[] = [];
    let events = 0;
    const sockets = Array.from({ length: subscribers }, (_, i) => {
      const started = performance.now();
      let first = true;
      const client = createWsClient({
        url: `${heraldUrl.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${viewerTokens[i % viewerTokens.length]}` },
        retryAttempts: 0,
      });
      const done = new Promise<void>((resolve) => {
        client.subscribe(
          { query: 'subscription($id: ID!) { mailingProgress(mailingId: $id) { status ratePerSecond stats { total sent failed } } }', variables: { id: loadedId } },
          {
            next: () => {
              events++;
              if (first) firstEventMs.push(performance.now() - started);
              first = false;
            },
            error: (error) => {
              subscriberErrors.push(String((error as { code?: number })?.code ?? error));
              resolve();
            },
            complete: () => resolve(),
          },
        );
      });
      return { client, done };
    });
    // The GraphQL clients: each its own connection and token, a query, a think time, the next.
    const latencies = new Map(Object.keys(LOAD_OPERATIONS).map((name) => [name, [] as number[]]));
    const errorCodes = new Map<string, number>();
    let loading = true;
    const pool = new Pool(heraldUrl, { connections: graphqlClients });
    cleanups.push(() => pool.destroy());
    const names = Object.keys(LOAD_OPERATIONS);
    const runners = viewerTokens.slice(0, graphqlClients).map(async (token, i) => {
      await sleep(Math.random() * thinkMs);
      for (let n = i; loading; n++) {
        const name = names[n % names.length];
        const started = performance.now();
        try {
          const body = await gql(pool, token, LOAD_OPERATIONS[name], { id: loadedId });
          if (started >= loadedStartsAt) latencies.get(name)!.push(performance.now() - started);
          for (const e of body.errors ?? []) errorCodes.set(e.extensions?.code ?? '?', (errorCodes.get(e.extensions?.code ?? '?') ?? 0) + 1);
        } catch (error) {
          errorCodes.set((error as Error).name, (errorCodes.get((error as Error).name) ?? 0) + 1);
        }
        await sleep(thinkMs);
      }
    });
    const loaded = await completion(loadedId);
    loading = false;
    await Promise.all(runners);
    await Promise.all(sockets.map((s) => Promise.race([s.done, sleep(5_000)])));
    await Promise.all(sockets.map((s) => s.client.dispose()));
    const loadedRate = loaded.sent / loaded.dispatch;

    const operations = Object.fromEntries(
      [...latencies].map(([name, values]) => [name, { requests: values.length, p50Ms: round(percentile(values, 50)), p99Ms: round(percentile(values, 99)) }]),
    );
    const result = {
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
      clients: CLIENTS,
      load: { graphqlClients, thinkMs, subscribers },
      dispatch: {
        quietMessagesPerSecond: Math.round(quietRate),
        loadedMessagesPerSecond: Math.round(loadedRate),
        ratio: round(loadedRate / quietRate, 2),
        loadedSeconds: round(loaded.dispatch),
      },
      operations,
      graphqlErrors: Object.fromEntries(errorCodes),
      subscriptions: {
        connected: firstEventMs.length,
        firstEventP50Ms: round(percentile(firstEventMs, 50)),
        firstEventP99Ms: round(percentile(firstEventMs, 99)),
        events,
        errors: subscriberErrors.length,
      },
    };
    if (!JSON_ONLY) {
      process.stderr.write(`\n${result.machine.cores} cores, ${result.machine.cpu}, Node ${result.machine.node}\n`);
      process.stderr.write(`dispatch: ${result.dispatch.quietMessagesPerSecond} msg/s alone, ${result.dispatch.loadedMessagesPerSecond} msg/s under load (${result.dispatch.ratio})\n`);
      for (const [name, o] of Object.entries(operations)) process.stderr.write(`  ${name.padEnd(14)} ${String(o.requests).padStart(7)} requests  p50 ${o.p50Ms} ms  p99 ${o.p99Ms} ms\n`);
      process.stderr.write(`  errors: ${JSON.stringify(result.graphqlErrors)}\n`);
      const s = result.subscriptions;
      process.stderr.write(`subscribers: ${s.connected} of ${subscribers} got a first event (p50 ${s.firstEventP50Ms} ms, p99 ${s.firstEventP99Ms} ms), ${s.events} events, ${s.errors} errors\n\n`);
    }
    console.log(JSON.stringify(result));
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    if (KEEP) process.stderr.write(`logs and data kept in ${dataDir}\n`);
    else await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * --api [--api-clients 16] [--api-seconds 20]: what a trivial query costs the api process at
 * rest. One api process (HERALD_ROLE=api, nothing dispatching), C clients each sending
 * `{ statistics { mailingCount } }` as soon as the last answer came (one admin token, as a
 * dashboard's tabs would), a warm-up of 5 s, then S seconds measured: the api process's CPU
 * time (/proc/<pid>/stat, user + system) ÷ the requests answered is `api.cpuMsPerRequest`.
 * --node-args (e.g. --cpu-prof) apply to the api process.
 */
async function mainApi() {
  const clients = Number(flag('api-clients') ?? 16);
  const seconds = Number(flag('api-seconds') ?? 20);
  const query = '{ statistics { mailingCount } }';
  const dataDir = await mkdtemp(path.join(tmpdir(), 'herald-bench-api-'));
  const cleanups: (() => Promise<unknown> | void)[] = [];
  try {
    say(`bench --api: ${clients} clients, ${seconds} s, ${cpus().length} cores`);
    const { pg, senderUrl } = await startDatabaseAndGateway(dataDir, cleanups);
    const port = await freePort();
    const heraldUrl = `http://127.0.0.1:${port}`;
    const logFile = path.join(dataDir, 'api.log');
    const env = { DATABASE_URL: pg.url, API_TOKENS: `admin:${TOKEN}`, SENDER_URL: senderUrl, SENDER_TOKEN: GATEWAY_TOKEN, HERALD_ROLE: 'api', PORT: String(port), LOG_LEVEL: flag('log-level') ?? 'info' };
    const api = spawnHerald(env, openSync(logFile, 'w'), flag('node-args')?.split(' ') ?? []);
    cleanups.push(async () => {
      // SIGTERM lets --cpu-prof write its profile before the process ends.
      api.kill('SIGTERM');
      await Promise.race([new Promise((r) => api.once('exit', r)), sleep(10_000)]);
    });
    await waitForLog(logFile, '"msg":"Herald is listening"');
    const pool = new Pool(heraldUrl, { connections: clients });
    cleanups.push(() => pool.destroy());
    const body = JSON.stringify({ query });
    let errors = 0;
    const run = async (until: number, latencies: number[] | null) => {
      let n = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (performance.now() < until) {
            const t = performance.now();
            const res = await pool.request({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body });
            const answer = (await res.body.json()) as { data?: { statistics?: { mailingCount?: number } }; errors?: unknown[] };
            if (answer.errors || typeof answer.data?.statistics?.mailingCount !== 'number') errors++;
            latencies?.push(performance.now() - t);
            n++;
          }
        }),
      );
      return n;
    };
    say('warming up…');
    await run(performance.now() + 5_000, null);
    say(`measuring for ${seconds} s…`);
    const latencies: number[] = [];
    const cpuBefore = cpuSeconds({ api: [api.pid!] }).api;
    const started = performance.now();
    const requests = await run(started + seconds * 1000, latencies);
    const elapsed = (performance.now() - started) / 1000;
    const cpuUsed = cpuSeconds({ api: [api.pid!] }).api - cpuBefore;
    const result = {
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
      api: {
        query,
        clients,
        seconds: round(elapsed),
        requests,
        errors,
        requestsPerSecond: Math.round(requests / elapsed),
        p50Ms: round(percentile(latencies, 50), 2),
        p99Ms: round(percentile(latencies, 99), 2),
        cpuMsPerRequest: round((cpuUsed / requests) * 1000, 3),
        apiCpuSeconds: round(cpuUsed, 2),
      },
    };
    say(`  ${requests} requests (${errors} errors), ${result.api.requestsPerSecond}/s, p50 ${result.api.p50Ms} ms, p99 ${result.api.p99Ms} ms, ${result.api.cpuMsPerRequest} ms of api CPU a request`);
    console.log(JSON.stringify(result));
    if (errors > 0) {
      process.stderr.write(`bench: invariant broken: every answer has data: ${errors} of ${requests} did not\n`);
      exitCode = 1;
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    if (KEEP) process.stderr.write(`logs and data kept in ${dataDir}\n`);
    else await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench -- --history N [--history-days 50] [--clients 20000]`: issue 22's growth.
 * Two databases on one embedded PostgreSQL: one empty, one with N old messages over
 * `days` day-partitions of 10 mailings each (filled in SQL, as the retention would find them:
 * mailings COMPLETED days ago). Each served at once by its own api and worker (the bench's
 * tuning) and measured in turns, one sample of one then of the other: a mailing to C clients
 * dispatched through the fast simulator (worker and
 * PostgreSQL CPU per message: the claims and result writes), then p50 of `mailing { stats }`,
 * `messages(first: 50)` and `statistics`, the export's first byte, and, Herald stopped,
 * dropping a day's partition (N ÷ days rows; filled in the empty one for the purpose) by
 * Herald's own detach and drop. `history.ratio.*` is history ÷ empty; each ≤ 1.2 is an
 * invariant (CPU and latencies: the median of the run's samples, against a floor of noise).
 */
async function mainHistory() {
  const total = Number(flag('history') ?? 10_000_000);
  const days = Number(flag('history-days') ?? 50);
  const clients = Number(flag('clients') ?? 20_000);
  const perMailing = Math.ceil(total / days / 10);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'herald-bench-history-'));
  const cleanups: (() => Promise<unknown> | void)[] = [];
  const { migrateDatabase } = await import('../src/db/migrate');
  const { createPartitions, detachPartition, dropDetached } = await import('../src/partitions/partition.store');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const schema = await import('../src/db/schema');
  try {
    say(`bench --history: ${total.toLocaleString('en')} old messages over ${days} day partitions, mailings to ${clients.toLocaleString('en')} clients, ${cpus().length} cores`);
    const { pg, senderUrl } = await startDatabaseAndGateway(dataDir, cleanups);
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    cleanups.push(() => admin.end());
    const urlOf = (name: string) => Object.assign(new URL(pg.url), { pathname: `/${name}` }).toString();
    for (const name of ['herald_empty', 'herald_history']) await admin.unsafe(`create database ${name}`);
    const RANGE = loadConfig({}).partitions.mailings;

    /** One day of old messages: 10 mailings COMPLETED `daysAgo` days ago, in the partition of mailing ids [from, from + RANGE). */
    const fillDay = async (sql: postgres.Sql, from: number, daysAgo: number) => {
      await createPartitions(drizzle({ client: sql, schema }), [{ from, to: from + RANGE }]);
      await sql`insert into mailings (id, text, start_at, end_at, status, started_at, finished_at, created_at)
                overriding system value
                select ${from} + g, 'history', now() - ${daysAgo} * interval '1 day', now() - ${daysAgo} * interval '1 day' + interval '3 hours',
                       'COMPLETED', now() - ${daysAgo} * interval '1 day', now() - ${daysAgo} * interval '1 day' + interval '1 hour', now() - ${daysAgo} * interval '1 day'
                from generate_series(0, 9) g`;
      await sql`insert into messages (mailing_id, client_id, phone, timezone, status, attempts, text, sent_at, created_at, updated_at, provider, provider_message_id)
                select ${from} + g, c, '79' || lpad(c::text, 9, '0'), 'Europe/Moscow',
                       case when c % 50 = 0 then 'FAILED' when c % 3 = 0 then 'SENT' else 'DELIVERED' end::message_status, 1, 'history message',
                       now() - ${daysAgo} * interval '1 day', now() - ${daysAgo} * interval '1 day', now() - ${daysAgo} * interval '1 day', 'default', (${from} + g) || '-' || c
                from generate_series(0, 9) g, generate_series(1, ${perMailing}) c`;
    };

    const filled = performance.now();
    const history = postgres(urlOf('herald_history'), { max: 1, onnotice: () => {} });
    cleanups.push(() => history.end());
    await migrateDatabase(urlOf('herald_history'));
    for (let d = 0; d < days; d++) {
      await fillDay(history, 1 + d * RANGE, days + 1 - d);
      if (d % 10 === 9) say(`  ${((d + 1) * perMailing * 10).toLocaleString('en')} old messages…`);
    }
    // New mailings after the history, as the turns would have left the sequence.
    await history`select setval('mailings_id_seq', ${days * RANGE}, true)`;
    await history`vacuum analyze messages`;
    const [{ rows, bytes }] = await history<{ rows: string; bytes: string }[]>`
      select count(*) as rows, (select sum(pg_total_relation_size(inhrelid)) from pg_inherits where inhparent = 'messages'::regclass) as bytes from messages`;
    const fillSeconds = (performance.now() - filled) / 1000;
    say(`  ${Number(rows).toLocaleString('en')} messages, ${Math.round(Number(bytes) / 2 ** 20)} MB, in ${fillSeconds.toFixed(0)} s`);

    // Both databases served at once, each by its api and worker, and measured in turns (one
    // sample of one, then of the other): the machine's noise falls on both alike.
    const serve = async (name: 'empty' | 'history') => {
      const url = urlOf(`herald_${name}`);
      const port = await freePort();
      const heraldUrl = `http://127.0.0.1:${port}`;
      const env = {
        DATABASE_URL: url, API_TOKENS: `admin:${TOKEN}`, SENDER_URL: senderUrl, SENDER_TOKEN: GATEWAY_TOKEN,
        SENDER_CONCURRENCY: String(CONCURRENCY), DISPATCH_BATCH_SIZE: '500', DISPATCH_POLL_MS: '50', LOG_LEVEL: 'info',
      };
      const procs: ChildProcess[] = [];
      const start = async (role: string, p: number) => {
        const logFile = path.join(dataDir, `${name}-${role}.log`);
        const child = spawnHerald({ ...env, HERALD_ROLE: role, PORT: String(p) }, openSync(logFile, 'w'));
        procs.push(child);
        cleanups.push(() => void child.kill('SIGTERM'));
        await waitForLog(logFile, '"msg":"Herald is listening"');
        return child;
      };
      await start('api', port);
      const worker = await start('worker', await freePort());
      const gql = graphqlAt(heraldUrl);
      for (let from = 0; from < clients; from += 10_000) {
        const input = Array.from({ length: Math.min(10_000, clients - from) }, (_, j) => ({ phone: `77${String(from + j).padStart(9, '0')}`, timezone: 'Europe/Moscow' }));
        await gql(`mutation($input: [CreateClientInput!]!) { importClients(input: $input) { imported } }`, { input });
      }
      const sql = postgres(url, { max: 2, onnotice: () => {} });
      cleanups.push(() => sql.end());
      // The backends of this database only: the other side's, the server's own and autovacuum are not this side's cost.
      const pgPids = async () => (await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${`herald_${name}`} and backend_type = 'client backend' and pid <> pg_backend_pid()`).map((r) => r.pid);
      /** One mailing to every client, dispatched: the worker's and PostgreSQL's CPU a message. */
      const dispatch = async () => {
        const backends = await pgPids();
        const before = cpuSeconds({ worker: [worker.pid!], postgres: backends });
        const { createMailing } = await gql(`mutation($input: CreateMailingInput!) { createMailing(input: $input) { id } }`, {
          input: { text: 'Bench message', startAt: new Date().toISOString(), endAt: new Date(Date.now() + 3_600_000).toISOString() },
        });
        while ((await gql(`{ mailing(id: "${createMailing.id}") { status } }`)).mailing.status !== 'COMPLETED') await sleep(100);
        // A backend that came during the run counts from 0; one that left took its CPU with it (pools keep theirs).
        const all = [...new Set([...backends, ...(await pgPids())])];
        const after = cpuSeconds({ worker: [worker.pid!], postgres: all });
        const { sent } = await dispatchTiming(sql, createMailing.id);
        if (sent !== clients) throw new Error(`${name}: ${sent} of ${clients} messages sent`);
        return { id: createMailing.id as string, workerUs: ((after.worker - before.worker) / clients) * 1e6, postgresUs: ((after.postgres - before.postgres) / clients) * 1e6 };
      };
      const stop = async () => {
        for (const child of procs) child.kill('SIGTERM');
        await Promise.all(procs.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
      };
      return { name, heraldUrl, gql, sql, dispatch, stop };
    };
    const sides = [await serve('empty'), await serve('history')];
    await simulatorMode(senderUrl, 'fast', FAST_BEHAVIOUR);
    const median = (values: number[]) => round(percentile(values, 50), 2);
    // Dispatch: a warm-up mailing each, then three measured each, in turns.
    for (const side of sides) await side.dispatch();
    const runs = sides.map(() => [] as { id: string; workerUs: number; postgresUs: number }[]);
    for (let i = 0; i < 3; i++) for (const [k, side] of sides.entries()) runs[k].push(await side.dispatch());
    const timed = async (fn: () => Promise<unknown>) => {
      const t = performance.now();
      await fn();
      return performance.now() - t;
    };
    // Both sides' statistics of the new mailings' partition as autovacuum leaves them within
    // its naptime (a minute): whether it had come by at the end of the dispatches is luck of
    // timing, and a partition not analyzed yet is planned differently (a page of messages sorts
    // the mailing's rows instead of walking the key in id order: 15 against 6 ms at 1M), on
    // either side. That first minute is in docs/retention.md.
    for (const side of sides) await side.sql`analyze messages`;
    const samples = sides.map(() => ({ stats: [] as number[], messages: [] as number[], statistics: [] as number[], exportFirstByte: [] as number[] }));
    for (let i = 0; i < 200; i++) {
      for (const [k, side] of sides.entries()) {
        const id = runs[k][0].id;
        samples[k].stats.push(await timed(() => side.gql(`{ mailing(id: "${id}") { stats { total sent failed pending } } }`)));
        samples[k].messages.push(await timed(() => side.gql(`{ mailing(id: "${id}") { messages(first: 50) { edges { node { id status } } } } }`)));
        samples[k].statistics.push(await timed(() => side.gql(`{ statistics { mailingCount messages { total sent failed } } }`)));
        if (i % 5 === 0) {
          samples[k].exportFirstByte.push(
            await timed(async () => {
              const res = await fetch(`${side.heraldUrl}/mailings/${id}/messages.csv`, { headers: { authorization: `Bearer ${TOKEN}` } });
              const reader = res.body!.getReader();
              await reader.read();
              await reader.cancel();
            }),
          );
        }
      }
    }
    for (const side of sides) await side.stop();
    // A day's partition dropped by Herald's own detach and drop, three times each, in turns:
    // in the history its oldest days; in the empty database, days of the same size filled for it.
    const drops = sides.map(() => [] as number[]);
    for (let i = 0; i < 3; i++) {
      const from = 1_000_000_000 + i * RANGE;
      await fillDay(sides[0].sql, from, days + 1);
      // As the history's days were, and as the retention finds a day: vacuumed (the same forks
      // on disk to unlink) and checkpointed. A partition written since the last checkpoint
      // drops faster (7–11 ms against 11–15 for the same 50,000 rows, in one database or the
      // other): what was compared before was the checkpoint's timing, not the history.
      await sides[0].sql.unsafe(`vacuum analyze messages_p${from}`);
      await sides[0].sql.unsafe('checkpoint');
      const pair = [{ name: `messages_p${from}`, from, to: from + RANGE }, { name: `messages_p${1 + i * RANGE}`, from: 1 + i * RANGE, to: 1 + (i + 1) * RANGE }];
      for (const [k, side] of sides.entries()) {
        const db = drizzle({ client: side.sql, schema });
        const day = pair[k];
        drops[k].push(await timed(async () => {
          await detachPartition(db, day.name);
          await dropDetached(db, day.name, day);
        }));
      }
    }
    const figures = sides.map((_, k) => ({
      workerCpuUsPerMessage: median(runs[k].map((r) => r.workerUs)),
      postgresCpuUsPerMessage: median(runs[k].map((r) => r.postgresUs)),
      statsP50Ms: median(samples[k].stats),
      messagesP50Ms: median(samples[k].messages),
      statisticsP50Ms: median(samples[k].statistics),
      exportFirstByteP50Ms: median(samples[k].exportFirstByte),
      dropDayMs: median(drops[k]),
    }));
    const [empty, old] = figures;
    for (const [k, f] of figures.entries()) {
      say(`  ${sides[k].name}: worker ${f.workerCpuUsPerMessage} µs and PostgreSQL ${f.postgresCpuUsPerMessage} µs of CPU a message; p50 stats ${f.statsP50Ms} ms, messages ${f.messagesP50Ms} ms, statistics ${f.statisticsP50Ms} ms, export's first byte ${f.exportFirstByteP50Ms} ms; a day's partition dropped in ${f.dropDayMs} ms`);
    }
    const ratio = Object.fromEntries(Object.keys(empty).map((k) => [k, round(old[k as keyof typeof old] / empty[k as keyof typeof empty], 2)]));
    const result = {
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
      history: { messages: Number(rows), partitions: days, megabytes: Math.round(Number(bytes) / 2 ** 20), fillSeconds: round(fillSeconds), clients, empty, history: old, ratio },
    };
    console.log(JSON.stringify(result));
    // Each figure within 1.2× of the empty database's; a figure under its floor of noise (a
    // millisecond, a microsecond of CPU per message on 2 shared cores) is not judged by ratio.
    const floors: Record<string, number> = { workerCpuUsPerMessage: 10, postgresCpuUsPerMessage: 10, statsP50Ms: 1, messagesP50Ms: 1, statisticsP50Ms: 1, exportFirstByteP50Ms: 1, dropDayMs: 20 };
    for (const [k, r] of Object.entries(ratio)) {
      const figure = old[k as keyof typeof old];
      if (r > 1.2 && figure - empty[k as keyof typeof empty] > floors[k]) {
        process.stderr.write(`bench: invariant broken: history.${k} within 1.2× of the empty database: ${figure} against ${empty[k as keyof typeof empty]} (${r}×)\n`);
        exitCode = 1;
      }
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    if (KEEP) process.stderr.write(`logs and data kept in ${dataDir}\n`);
    else await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * --live [--clients N] [--subscribers 10000] [--storm 1000] [--live-processes 4]: the live
 * fan-out (issue 21, item 3). One api process and one worker, with Herald's defaults but for
 * the per-token socket limit; a mailing to N (default 60,000: 20–30 s at the defaults) alone,
 * then the same mailing again while S websockets subscribe from P load generator processes
 * (scripts/bench-live-sockets.ts): 1% to `statisticsChanged`, the rest to the running
 * mailing's `mailingProgress`, all with one document and viewer tokens (100 sockets a token).
 * S − storm connect before it starts (a ramp); `storm` more connect at once 5 s into its
 * dispatch. Figures: `live.eventP99Ms` (each progress event's arrival after its `at`),
 * `live.snapshotP99Ms` (the storm's first events after the storm began), `live.dispatchRatio`,
 * `live.apiRssMb` (the api's peak RSS with every socket open). Invariants: every subscriber got
 * its snapshot, followed the mailing to COMPLETED and its completion, and received every
 * event from its first to its last (no event lost or skipped).
 */
async function mainLive() {
  const subscribers = Number(flag('subscribers') ?? 10_000);
  const storm = Math.min(subscribers, Number(flag('storm') ?? 1_000));
  const processes = Number(flag('live-processes') ?? 4);
  const statisticsSubscribers = Math.round(subscribers / 100);
  const perToken = 100;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'herald-bench-live-'));
  const loadAtStart = loadavg()[0];
  const cleanups: (() => Promise<unknown> | void)[] = [];
  try {
    say(`bench --live: ${CLIENTS.toLocaleString('en')} clients, ${subscribers} subscribers (${storm} in a storm, ${statisticsSubscribers} on statisticsChanged), ${processes} load processes, ${cpus().length} cores`);
    const { pg, senderUrl } = await startDatabaseAndGateway(dataDir, cleanups);
    await simulatorMode(senderUrl, 'fast', FAST_BEHAVIOUR);
    const viewerTokens = Array.from({ length: Math.ceil(subscribers / perToken) }, (_, i) => `bench-viewer-${String(i).padStart(4, '0')}-0123456789`);
    const port = await freePort();
    const heraldUrl = `http://127.0.0.1:${port}`;
    // Herald's defaults (no SENDER_CONCURRENCY, batch or poll tuning), but for the sockets a token may hold.
    const heraldEnv = {
      DATABASE_URL: pg.url,
      API_TOKENS: [`admin:${TOKEN}`, ...viewerTokens.map((t) => `viewer:${t}`)].join(','),
      SENDER_URL: senderUrl,
      SENDER_TOKEN: GATEWAY_TOKEN,
      WS_MAX_CONNECTIONS_PER_TOKEN: String(perToken * 2),
      // The simulator sends no receipts here: a finished mailing's progress ends 2 s after it, not 10 min.
      LIVE_RECEIPT_IDLE_MS: '2000',
      LOG_LEVEL: flag('log-level') ?? 'info',
    };
    const heralds: Record<'api' | 'worker', ChildProcess> = {} as never;
    for (const [name, p] of [['api', port], ['worker', await freePort()]] as const) {
      const logFile = path.join(dataDir, `${name}.log`);
      const child = spawnHerald({ ...heraldEnv, HERALD_ROLE: name, PORT: String(p) }, openSync(logFile, 'w'), name === 'api' ? (flag('node-args')?.split(' ') ?? []) : []);
      cleanups.push(() => void child.kill('SIGTERM'));
      await waitForLog(logFile, '"msg":"Herald is listening"');
      heralds[name] = child;
    }
    const admin = new Pool(heraldUrl, { connections: 4 });
    cleanups.push(() => admin.destroy());
    const ok = async (query: string, variables: Record<string, unknown> = {}) => {
      const res = await admin.request({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ query, variables }) });
      const body = (await res.body.json()) as { data?: any; errors?: unknown[] };
      if (!body.data || body.errors) throw new Error(`GraphQL failed: ${JSON.stringify(body).slice(0, 500)}`);
      return body.data;
    };

    // The clients straight into the table, not through importClients: what the api keeps after an
    // import is the main bench's figure (issue 21, item 6); here its RSS is to show what sockets cost.
    say('inserting clients…');
    const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    cleanups.push(() => sql.end());
    await sql`insert into clients (phone, operator_code, tags, timezone)
      select (79000000000 + i)::text, '900', array['live'], 'Europe/Moscow' from generate_series(0, ${CLIENTS - 1}) as i`;
    const CREATE = `mutation($input: CreateMailingInput!) { createMailing(input: $input) { id status } }`;
    const STATUS = `query($id: ID!) { mailing(id: $id) { status } }`;
    const createMailing = async (startAt: number) =>
      (await ok(CREATE, { input: { text: 'Live bench', startAt: new Date(startAt).toISOString(), endAt: new Date(Date.now() + 3 * 3600_000).toISOString(), filter: { tags: ['live'] } } })).createMailing.id as string;
    const completion = async (id: string) => {
      while ((await ok(STATUS, { id })).mailing.status !== 'COMPLETED') await sleep(200);
      return dispatchTiming(sql, id);
    };

    say('dispatch alone…');
    const alone = await completion(await createMailing(Date.now()));
    const aloneRate = alone.sent / alone.dispatch;
    say(`  ${alone.sent} sent in ${alone.dispatch.toFixed(1)} s: ${Math.round(aloneRate)} msg/s`);

    // The second mailing waits (an hour ahead) while the ramp connects; it is then started now.
    const loadedId = await createMailing(Date.now() + 3600_000);
    const queries = {
      progress: 'subscription($id: ID!) { mailingProgress(mailingId: $id) { status at ratePerSecond etaSeconds stats { total pending sent failed } } }',
      statistics: 'subscription { statisticsChanged { mailingCount messages { total sent failed } } }',
    };
    const variables = { progress: { id: loadedId }, statistics: {} };
    const plans: SocketPlan[] = Array.from({ length: subscribers }, (_, i) => ({ token: viewerTokens[i % viewerTokens.length], kind: i < statisticsSubscribers ? 'statistics' : 'progress' }));
    // The storm: the last `storm` (all progress), spread over the processes like the rest.
    const rampPlans = plans.slice(0, subscribers - storm);
    const stormPlans = plans.slice(subscribers - storm);
    const share = <T>(all: T[], k: number) => all.filter((_, i) => i % processes === k);
    const generators = await Promise.all(
      Array.from({ length: processes }, async () => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench-live-sockets.ts'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        cleanups.push(() => void child.kill('SIGTERM'));
        // The dashboards would be browsers on other machines: here they share Herald's two cores, at
        // the lowest priority, so that they take what Herald leaves. Their clocks then run late if
        // anything (an event or a snapshot counted as arriving when the generator got to it).
        setPriority(child.pid!, Number(flag('live-nice') ?? 5));
        await new Promise<void>((resolve, reject) => {
          child.once('message', () => resolve());
          child.once('exit', (code) => reject(new Error(`a load generator exited with ${code}`)));
        });
        return child;
      }),
    );
    const ask = <T>(child: ChildProcess, command: unknown, timeoutMs: number) =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`a load generator did not answer ${JSON.stringify(command).slice(0, 40)} in ${timeoutMs} ms`)), timeoutMs);
        child.once('message', (reply) => {
          clearTimeout(timer);
          resolve(reply as T);
        });
        child.send(command as never);
      });
    const wsUrl = heraldUrl.replace(/^http/, 'ws');
    const openOn = (plansOf: (k: number) => SocketPlan[], concurrency: number) =>
      Promise.all(generators.map((g, k) => ask<OpenedReply>(g, { cmd: 'open', url: wsUrl, sockets: plansOf(k), queries, variables, concurrency } satisfies OpenCommand, 120_000)));

    const apiRss = { atRest: 0, peak: 0, beforeSockets: await rssMb(heralds.api.pid!) };
    let sampling = true;
    const rssSampler = (async () => {
      while (sampling) {
        apiRss.peak = Math.max(apiRss.peak, await rssMb(heralds.api.pid!));
        await sleep(250);
      }
    })();
    say(`ramp: ${rampPlans.length} sockets…`);
    const rampStarted = performance.now();
    const ramp = await openOn((k) => share(rampPlans, k), 50);
    say(`  connected in ${((performance.now() - rampStarted) / 1000).toFixed(1)} s, ${ramp.reduce((n, r) => n + r.failed, 0)} without a snapshot`);
    await sleep(2_000);
    apiRss.atRest = await rssMb(heralds.api.pid!);

    say('dispatch under load…');
    const cpuBefore = cpuSeconds({ api: [heralds.api.pid!], worker: [heralds.worker.pid!], generators: generators.map((g) => g.pid!) });
    await ok(`mutation($id: ID!) { updateMailing(id: $id, input: { startAt: "${new Date().toISOString()}" }) { id } }`, { id: loadedId });
    const loadedDone = completion(loadedId);
    await sleep(5_000);
    say(`storm: ${stormPlans.length} sockets at once…`);
    const stormed = await openOn((k) => share(stormPlans, k), 0);
    const loaded = await loadedDone;
    const loadedRate = loaded.sent / loaded.dispatch;
    const cpuAfter = cpuSeconds({ api: [heralds.api.pid!], worker: [heralds.worker.pid!], generators: generators.map((g) => g.pid!) });
    say(`  ${loaded.sent} sent in ${loaded.dispatch.toFixed(1)} s: ${Math.round(loadedRate)} msg/s; waiting for the subscriptions to end…`);
    // Progress ends LIVE_RECEIPT_IDLE_MS after the counts stopped moving (the statistics never
    // end): the reports are read until every progress subscriber has its completion, or 60 s.
    let reports: ReportReply[] = [];
    for (const giveUpAt = Date.now() + 60_000; Date.now() < giveUpAt; ) {
      await sleep(3_000);
      reports = await Promise.all(generators.map((g) => ask<ReportReply>(g, { cmd: 'report' }, 60_000)));
      if (reports.every((r) => r.subscribers.every((s) => s.kind !== 'progress' || s.completed || s.error !== null))) break;
    }
    sampling = false;
    await rssSampler;
    for (const g of generators) g.send({ cmd: 'close' });

    // Every progress event any subscriber saw, by its `at`: a subscriber must have each one from its first to its last.
    const allAts = [...new Set(reports.flatMap((r) => r.ats))].sort((a, b) => a - b);
    const between = (from: number, to: number) => allAts.filter((at) => at >= from && at <= to).length;
    const subs = reports.flatMap((r) => r.subscribers);
    const progressSubs = subs.filter((s) => s.kind === 'progress');
    const statisticsSubs = subs.filter((s) => s.kind === 'statistics');
    const missing = progressSubs.filter((s) => s.firstAt !== null && s.events !== between(s.firstAt, s.lastAt!));
    const merged = (pick: (r: ReportReply) => [number, number][]) => {
      const histogram = new Map<number, number>();
      for (const r of reports) for (const [ms, n] of pick(r)) histogram.set(ms, (histogram.get(ms) ?? 0) + n);
      return (p: number) => {
        const total = [...histogram.values()].reduce((a, b) => a + b, 0);
        let seen = 0;
        for (const ms of [...histogram.keys()].sort((a, b) => a - b)) if ((seen += histogram.get(ms)!) >= (p / 100) * total) return ms;
        return NaN;
      };
    };
    const lagPercentile = merged((r) => r.lagHistogram);
    const snapshotAge = merged((r) => r.snapshotAgeHistogram);
    const stormMs = stormed.flatMap((r) => r.snapshotMs);
    const rampMs = ramp.flatMap((r) => r.snapshotMs);
    const cpu = Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, round(cpuAfter[k] - cpuBefore[k], 1)]));
    const result = {
      // The load average at the start and the end: other work on the machine shows in every figure.
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage: [round(loadAtStart, 1), round(loadavg()[0], 1)] },
      clients: CLIENTS,
      live: {
        subscribers,
        progressSubscribers: progressSubs.length,
        statisticsSubscribers: statisticsSubs.length,
        storm,
        loadProcesses: processes,
        eventP50Ms: lagPercentile(50),
        eventP99Ms: lagPercentile(99),
        eventMaxMs: lagPercentile(100),
        progressEvents: allAts.length,
        eventsReceived: progressSubs.reduce((n, s) => n + s.events, 0),
        snapshotP50Ms: round(percentile(stormMs, 50)),
        snapshotP99Ms: round(percentile(stormMs, 99)),
        snapshotMaxMs: round(percentile(stormMs, 100)),
        rampSnapshotP99Ms: round(percentile(rampMs, 99)),
        // A joiner's snapshot is the latest event, replayed: its age after its `at` (not in eventP99Ms).
        snapshotAgeP50Ms: snapshotAge(50),
        snapshotAgeP99Ms: snapshotAge(99),
        aloneMessagesPerSecond: Math.round(aloneRate),
        loadedMessagesPerSecond: Math.round(loadedRate),
        dispatchRatio: round(loadedRate / aloneRate, 2),
        loadedSeconds: round(loaded.dispatch),
        apiRssMb: round(apiRss.peak),
        apiRssAtRestMb: round(apiRss.atRest),
        apiRssBeforeSocketsMb: round(apiRss.beforeSockets),
        apiKbPerSocket: round(((apiRss.peak - apiRss.beforeSockets) * 1024) / subscribers),
        cpuSecondsUnderLoad: cpu,
      },
    };
    const broken: string[] = [];
    const check = (name: string, okay: boolean, detail: string) => void (okay || broken.push(`${name}: ${detail}`));
    check('every subscriber got its snapshot', subs.length === subscribers && subs.every((s) => s.snapshot), `${subs.filter((s) => s.snapshot).length} of ${subscribers}`);
    check('no subscriber got an error', subs.every((s) => s.error === null), subs.find((s) => s.error !== null)?.error ?? '');
    check('every progress subscriber saw COMPLETED and its completion', progressSubs.every((s) => s.lastStatus === 'COMPLETED' && s.completed), `${progressSubs.filter((s) => s.lastStatus === 'COMPLETED' && s.completed).length} of ${progressSubs.length}`);
    check('every progress subscriber received every event from its first to its last', missing.length === 0, `${missing.length} missed some`);
    check('the loaded mailing sent every message', loaded.sent === CLIENTS, `${loaded.sent} of ${CLIENTS}`);
    check('the mailing alone sent every message', alone.sent === CLIENTS, `${alone.sent} of ${CLIENTS}`);
    check('the storm happened while the mailing dispatched', stormMs.length > 0 && loaded.dispatch > 6, `it dispatched for ${round(loaded.dispatch)} s`);
    (result as any).invariants = { broken };
    if (!JSON_ONLY) {
      const l = result.live;
      process.stderr.write(`\n${result.machine.cores} cores, ${result.machine.cpu}, Node ${result.machine.node}, load average ${result.machine.loadAverage.join(' → ')}\n`);
      process.stderr.write(`dispatch: ${l.aloneMessagesPerSecond} msg/s alone, ${l.loadedMessagesPerSecond} msg/s with ${subscribers} subscribers (${l.dispatchRatio})\n`);
      process.stderr.write(`events: ${l.progressEvents} progress events, ${l.eventsReceived} received; after their at: p50 ${l.eventP50Ms} ms, p99 ${l.eventP99Ms} ms, max ${l.eventMaxMs} ms (snapshots' age p50 ${l.snapshotAgeP50Ms}, p99 ${l.snapshotAgeP99Ms})\n`);
      process.stderr.write(`storm of ${storm}: snapshots p50 ${l.snapshotP50Ms} ms, p99 ${l.snapshotP99Ms} ms, max ${l.snapshotMaxMs} ms after it began\n`);
      process.stderr.write(`api RSS: ${l.apiRssBeforeSocketsMb} MB before the sockets, ${l.apiRssAtRestMb} MB with the ramp's, ${l.apiRssMb} MB at peak (${l.apiKbPerSocket} KB a socket)\n`);
      process.stderr.write(`CPU seconds during the loaded dispatch: ${JSON.stringify(cpu)}\n\n`);
    }
    console.log(JSON.stringify(result));
    for (const b of broken) process.stderr.write(`bench: invariant broken: ${b}\n`);
    if (broken.length > 0) exitCode = 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    if (KEEP) process.stderr.write(`logs and data kept in ${dataDir}\n`);
    else await rm(dataDir, { recursive: true, force: true });
  }
}

/** Set by a run whose invariants broke: the bench exits non-zero (CI's bench step fails). */
let exitCode = 0;
await (HISTORY ? mainHistory() : API ? mainApi() : LIVE ? mainLive() : LOAD ? mainLoad() : main());
process.exit(exitCode);
