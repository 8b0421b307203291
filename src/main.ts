import 'reflect-metadata';
import os from 'node:os';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Services } from './api/services';
import { Authenticator } from './auth/authenticator';
import { OidcVerifier } from './auth/oidc';
import { ensureDevAdminToken, TokenRegistry } from './auth/tokens';
import { ConfigError, loadConfig, type Config } from './config';
import { DbClock } from './db/clock';
import { connectDatabase, fetchTypesOnce, postgresDriverPatched, type Db } from './db/connection';
import { EmbeddedPostgresError, startEmbeddedPostgres } from './db/embedded';
import { describeDatabaseError, isDatabaseUnavailable } from './db/errors';
import { isMigrated, migrateDatabase, PoolerInTheWayError } from './db/migrate';
import { PARTITION_QUEUE, partitionQueueOptions, startPartitionKeeping } from './partitions/partition.jobs';
import { ensurePartitions } from './partitions/partition.service';
import { PgClaimStore } from './dispatch/claim.store';
import { Dispatcher } from './dispatch/dispatcher';
import { EventBus } from './events/event.bus';
import type { OperationObserver } from './graphql/gate';
import { DatabaseMonitor } from './health/database.monitor';
import { createHttpServer, type GraphqlMount } from './http/server';
import { simulatorRoutes } from './http/simulator.routes';
import { createLogger, type Logger } from './logger';
import { autoPause, completeFinished, type SettledObserver } from './mailings/mailing.lifecycle';
import { mailingTimerHandlers } from './mailings/mailing.timers';
import { CostBudget } from './ratelimit/cost-budget';
import { FailedAuthLimiter } from './ratelimit/failed-auth';
import { PgBossTimers } from './timers/timer.pgboss';
import postgres from 'postgres';
import type { Router } from 'express';
import { messageExportRoutes } from './export/message-export.routes';
import { Metrics } from './metrics/metrics';
import { metricsRoutes } from './metrics/metrics.routes';
import { InboundService } from './inbound/inbound.service';
import { ProviderCallbackGuard } from './providers/provider-callback.guard';
import type { ProviderInbox } from './providers/provider-inbox';
import { receiptRoutes } from './receipts/receipt.routes';
import { ReceiptService } from './receipts/receipt.service';
import { readQueueFigures } from './metrics/metrics.store';
import { REPORT_QUEUE, reportQueue, reportQueueOptions, startReports } from './reports/report.jobs';
import { PgProviderDirectory } from './providers/provider.directory';
import { ProviderStateReporter } from './providers/provider-state.reporter';
import { buildProviders, describeProviders, LazyOutbox, providersOf, type ProviderListing } from './providers/providers.build';
import type { ProviderRouter } from './providers/provider.router';
import type { Outbox } from './dispatch/dispatch.ports';
import { inboundRoutes } from './inbound/inbound.routes';
import { WebhookSender } from './webhooks/webhook.sender';

export type Herald = {
  /** e.g. http://127.0.0.1:4000 */
  url: string;
  stop: () => Promise<void>;
};

type Stoppable = { name: string; stop: () => Promise<void> };

/** What every process has made before its roles start: what startWorker and graphqlParts build on. */
type ProcessParts = {
  config: Config;
  databaseUrl: string;
  /** DATABASE_URL goes through a pooler in transaction mode (DATABASE_DIRECT_URL is set) */
  pooled: boolean;
  db: Db;
  /** the providers this process sends through: the dispatcher's, and the api's for test sends */
  outbox: Outbox;
  /** the router behind it, built at once in a worker process */
  router: ProviderRouter | undefined;
  /** every configured provider (no secrets), for the providers query */
  providerListing: ProviderListing[];
  /** messages this process may have in flight at most, over every provider */
  sendConcurrency: number;
  /** the pool of the providers' rates and state reports (made at first use) */
  providersDb: () => Db;
  timers: PgBossTimers;
  bus: EventBus;
  monitor: DatabaseMonitor;
  log: Logger;
  /** where each part that starts is pushed, to be stopped in reverse order */
  started: Stoppable[];
  metrics: Metrics | undefined;
  /** told of messages a cancellation or a mailing's end settles at once (metrics) */
  onSettled: SettledObserver | undefined;
  /** providers' receipts: applied, parked, swept (by the processes that dispatch) */
  receipts: ReceiptService;
};

/**
 * Wires Herald together and starts it; the only place that does. Whatever started is
 * stopped in reverse order, once, by `stop()` (or at once if a later step fails).
 */
export async function startHerald(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Herald> {
  const started: Stoppable[] = [];
  const stopAll = async () => {
    for (const part of started.splice(0).reverse()) {
      try {
        await part.stop();
        log.info({ part: part.name }, 'stopped');
      } catch (err) {
        log.error({ err, part: part.name }, 'failed to stop cleanly');
      }
    }
  };

  try {
    // Before anything starts (a database, a websocket server that would report the same
    // failure with a stack of its own): can this process listen where it is told to?
    await assertCanListen(config.host, config.port);
    if (!postgresDriverPatched()) {
      log.warn("postgres.js is not patched against its write-after-close crash (installed with --ignore-scripts?): run npx patch-package; until then a database outage can end this process");
    }
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, log });
      started.push({ name: 'embedded PostgreSQL', stop: embedded.stop });
      databaseUrl = embedded.url;
    }
    // What needs a session of its own (migrations' and pg-boss's session locks, LISTEN) goes
    // to DATABASE_DIRECT_URL when set: DATABASE_URL then goes through PgBouncer in
    // transaction mode, where a session lasts one transaction (docs/operations.md).
    const directUrl = config.databaseDirectUrl ?? databaseUrl;
    const pooled = config.databaseDirectUrl !== undefined;
    await migrateDatabase(directUrl, { connectTimeoutMs: config.database.connectTimeoutMs }).catch((error: unknown) => {
      if (error instanceof PoolerInTheWayError) throw new StartupError(error.message);
      throw isDatabaseUnavailable(error) ? error : new StartupError(`applying the database migrations failed: ${describeDatabaseError(error)}`);
    });
    log.info('database migrated');
    const timeouts = { connectTimeoutMs: config.database.connectTimeoutMs, statementTimeoutMs: config.database.statementTimeoutMs };
    const { db, close } = connectDatabase(databaseUrl, { ...timeouts, pooled });
    started.push({ name: 'database pool', stop: close });
    // The messages' partition for the next mailings, before anything may write one.
    await ensurePartitions(db, log, config.partitions);
    const monitor = new DatabaseMonitor(databaseUrl, log, { probeMs: config.database.probeMs, timeoutMs: config.database.connectTimeoutMs, pooled });
    monitor.start();
    started.push({ name: 'database monitor', stop: () => monitor.stop() });

    // Counted in this process only when on (METRICS_ENABLED); read at GET /metrics.
    const metrics = config.metrics.enabled ? new Metrics(log, { queue: () => readQueueFigures(db), cacheMs: config.metrics.cacheMs }) : undefined;

    // Timers are set by api processes (a mailing was written) and run by worker processes,
    // which also run the report's cron schedule and its jobs.
    const timers = await PgBossTimers.start(directUrl, log, {
      timeouts,
      cron: config.role !== 'api',
      cronIntervalS: Math.ceil(config.dispatch.timerPollMs / 1000),
      queues: [
        { name: REPORT_QUEUE, options: reportQueueOptions(config) },
        { name: PARTITION_QUEUE, options: partitionQueueOptions },
      ],
    });
    started.push({ name: 'timers (pg-boss)', stop: () => timers.stop() });
    // Every process hears the event channel: api processes for their subscribers, workers
    // to look for work at once when a mailing starts or resumes anywhere.
    const bus = await EventBus.start(directUrl, log);
    started.push({ name: 'event channel', stop: () => bus.stop() });
    // The providers of this process: the dispatcher's, and the api's for test sends. An api
    // process builds them at its first test send only: an SMPP provider's binds are often
    // limited by account, and an api process that never test-sends should hold none.
    const simulated = await providersOf(config, log);
    started.push({ name: 'gateway simulator', stop: simulated.stop });
    // Replies, from the inbound route and from SMPP binds (ProviderInbox.reply): kept, keywords acted on.
    const inbound = new InboundService(db, log, config.inbound);
    // The providers' shared rates and the reports of their states go through a pool of their
    // own: their statements must neither wait behind the API's queries nor, while the
    // database is away, hold the connections the API answers SERVICE_UNAVAILABLE with.
    let providersPool: Db | undefined;
    const providersDb = () => {
      if (!providersPool) {
        const pool = connectDatabase(databaseUrl, { max: 2, name: 'herald-providers', ...timeouts, pooled });
        started.push({ name: 'providers database pool', stop: pool.close });
        providersPool = pool.db;
      }
      return providersPool;
    };
    // What providers hand Herald besides answers: receipts (and replies), from SMSCs' deliver_sm and HTTP posts.
    const kinds = new Map(simulated.providers.providers.map((p) => [p.name, p.type] as const));
    const receipts = new ReceiptService(db, log, { kinds, parkMs: config.receiptParkMs, ...(metrics ? { observe: (p, result, n) => metrics.receipts(p, result, n) } : {}) });
    const inbox: ProviderInbox = { receipts: (p, r) => receipts.receipts(p, r), reply: (p, r) => inbound.receive(p, r) };
    const build = () => buildProviders(simulated.providers, config, providersDb, log, metrics && ((name) => () => metrics.gatewayRequest(name)), inbox);
    const router = config.role === 'api' ? undefined : build();
    const outbox: Outbox = router ?? new LazyOutbox(build);
    started.push({ name: 'providers', stop: () => outbox.close() });
    const { listing: providerListing, concurrency: sendConcurrency } = describeProviders(simulated.providers, simulated.simulator ? ['default'] : []);
    const onSettled: SettledObserver | undefined = metrics && ((settled) => metrics.messagesSettled(settled));
    const parts: ProcessParts = {
      config, databaseUrl, pooled, db, outbox, router, providerListing, sendConcurrency, providersDb, timers, bus, monitor, log, started, metrics, onSettled, receipts,
    };
    const dispatcher = config.role === 'api' ? undefined : await startWorker(parts);
    if (dispatcher) {
      // Claims that failed while the database was away back off; it being back is worth a look at once.
      const off = monitor.onRecovered(() => dispatcher.nudge());
      started.push({ name: 'dispatcher wake-ups on database recovery', stop: async () => void off() });
    }
    const graphql = config.role === 'worker' ? undefined : await graphqlParts(parts);

    const routes: Router[] = [];
    if (metrics) routes.push(metricsRoutes(metrics, config.metrics.token, log));
    // Providers' posts (receipts, replies) are taken by every process that serves HTTP: they
    // need the database only, and a worker's built-in simulator posts to its own process.
    const callbackGuard = new ProviderCallbackGuard(simulated.providers);
    routes.push(receiptRoutes(callbackGuard, receipts, log));
    routes.push(inboundRoutes(callbackGuard, inbound, log));
    // Never in production: there they would let anyone reach the simulator's behaviour unasked.
    const simControls = simulated.simulator && config.nodeEnv !== 'production';
    if (simControls) routes.push(simulatorRoutes(simulated.simulator!));
    if (graphql) {
      // Its own small pool: a long export holds a connection for its cursor, and raw SQL
      // wants postgres.js without drizzle's type parsers.
      // Planned for its mailing's partition at each run, as the other pools' statements are (db/connection.ts).
      const exportSql = postgres(databaseUrl, {
        max: 2,
        onnotice: () => {},
        ...(pooled ? { prepare: false } : {}),
        connection: { application_name: 'herald-export', ...(pooled ? {} : { plan_cache_mode: 'force_custom_plan' }) },
      });
      if (pooled) fetchTypesOnce(exportSql);
      started.push({ name: 'export database pool', stop: () => exportSql.end({ timeout: 5 }) });
      routes.push(messageExportRoutes(exportSql, graphql.auth, log));
    }

    const http = await createHttpServer({
      log,
      graphql: graphql?.mount,
      routes,
      readiness: {
        // The monitor's verdict first: while the database does not answer, /readyz says why at once.
        database: async () => monitor.problem() ?? ((await isMigrated(db)) ? null : 'migrations not applied'),
        ...(dispatcher ? { gateway: async () => dispatcher.problem() } : {}),
      },
    });
    await new Promise<void>((resolve, reject) => {
      http.server.once('error', (error: NodeJS.ErrnoException) => reject(listenFailure(error, config.host, config.port)));
      http.server.listen(config.port, config.host, resolve);
    });
    started.push({ name: 'http server', stop: http.stop });
    const { port } = http.server.address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    // The banner before the log line: whoever waits for "Herald is listening" has read it too.
    if (graphql) process.stderr.write(startBanner(url, config, simulated.simulator && { controls: Boolean(simControls), mode: simulated.simulator.mode.mode }));
    log.info({ url: `${url}/graphql`, role: config.role }, 'Herald is listening');
    simulated.listening(url);

    let stopping: Promise<void> | undefined;
    return { url, stop: () => (stopping ??= stopAll()) };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The worker role: the dispatcher and the mailing timers. */
async function startWorker(parts: ProcessParts) {
  const { config, db, timers, bus, log, started, metrics } = parts;
  const router = parts.router!;
  const d = config.dispatch;
  // Its own pool, so that sending never queues behind (or delays) the API's queries. A claim
  // holds its mailing's lock until its requests are written out; should this process hang
  // (not die: then the locks go with the connection), PostgreSQL ends that transaction after
  // LEASE_MS, when its leases run out too.
  const dispatchDb = connectDatabase(parts.databaseUrl, {
    max: PgClaimStore.connections,
    name: 'herald-dispatch',
    pooled: parts.pooled,
    idleInTransactionMs: d.leaseMs,
    connectTimeoutMs: config.database.connectTimeoutMs,
    statementTimeoutMs: config.database.statementTimeoutMs,
  });
  started.push({ name: 'dispatch database pool', stop: dispatchDb.close });

  const clock = new DbClock();
  const store = new PgClaimStore(dispatchDb.db, clock, {
    leaseMs: d.leaseMs,
    // Longer than any statement may run and than a transaction may sit idle: by then
    // PostgreSQL has ended whatever the silent call was waiting on.
    answerMs: Math.max(d.leaseMs, config.database.statementTimeoutMs || 30_000) + config.database.connectTimeoutMs,
  });
  const mailings = {
    autoPause: (id: number, reason: string) => autoPause(dispatchDb.db, log, id, reason),
    completeFinished: (ids: readonly number[]) => completeFinished(dispatchDb.db, log, ids),
  };
  const dispatcher = new Dispatcher({ store, outbox: router, mailings, clock, log }, {
    concurrency: parts.sendConcurrency,
    batchSize: d.batchSize,
    pollMs: d.pollMs,
    flushMs: d.flushMs,
    requestTimeoutMs: d.requestTimeoutMs,
    retry: { retryBaseMs: d.retryBaseMs, retryMaxMs: d.retryMaxMs, authProbeMs: d.authProbeMs },
    rules: config.campaign,
    onResults: metrics && ((rows) => metrics.messageResults(rows)),
  });
  metrics?.watchBreakers(() => router.breakers());
  // The providers' states for the api processes. Pushed before the dispatcher, so stopped
  // after it (in reverse): its rows go when sending has.
  const reporter = new ProviderStateReporter(parts.providersDb(), store.owner, router, log);
  started.push({ name: "providers' states", stop: () => reporter.stop() });
  reporter.start();
  // Receipts that came before their SENT was committed are applied here, about a second later.
  parts.receipts.start();
  started.push({ name: 'parked receipts', stop: () => parts.receipts.stop() });
  dispatcher.start();
  started.push({ name: 'dispatcher', stop: () => dispatcher.stop() });
  const unsubscribe = bus.subscribe((event) => {
    if (event.t === 'mailing' && (event.k === 'STARTED' || event.k === 'RESUMED' || event.k === 'RETRIED')) dispatcher.nudge();
  });
  started.push({ name: 'dispatcher wake-ups', stop: async () => unsubscribe() });

  // Webhooks go out from a pool of their own, never queueing behind (or delaying) dispatch's
  // or the API's statements. A round holds a connection only to claim and to write, never
  // while its requests are out, so a slow receiver holds none.
  const webhookDb = connectDatabase(parts.databaseUrl, {
    max: 8,
    name: 'herald-webhooks',
    pooled: parts.pooled,
    idleInTransactionMs: config.webhooks.timeoutMs + 30_000,
    connectTimeoutMs: config.database.connectTimeoutMs,
    statementTimeoutMs: config.database.statementTimeoutMs,
  });
  started.push({ name: 'webhooks database pool', stop: webhookDb.close });
  const webhookSender = new WebhookSender(webhookDb.db, log, {
    ...config.webhooks,
    allowPrivate: config.webhooks.allowPrivate || config.nodeEnv !== 'production',
  });
  webhookSender.start();
  started.push({ name: 'webhook sender', stop: () => webhookSender.stop() });

  await timers.work(mailingTimerHandlers(db, log, () => dispatcher.nudge(), parts.onSettled), { pollMs: d.timerPollMs, sweepMs: d.sweepMs });
  // The statistics e-mail runs beside dispatch, never in its way: its own pg-boss jobs.
  const stopReports = await startReports(config, db, timers, log, d.timerPollMs);
  started.push({ name: 'statistics reports', stop: stopReports });
  // Partitions made ahead, turned, and with a retention dropped: once a run, whichever worker.
  await startPartitionKeeping(config, db, timers, log, d.timerPollMs, metrics && ((p) => metrics.partitionDropped(p.rows)));
  return dispatcher;
}

/**
 * The api role: GraphQL over HTTP and websocket, with live updates from the event channel.
 * Its services are built here, once, and shared by every request and subscription.
 */
async function graphqlParts(parts: ProcessParts) {
  const { config, db, log, started, metrics, monitor } = parts;
  // Loaded for the api role only: a worker process serves no GraphQL and need not carry
  // Apollo, graphql-js and the schema in its memory.
  const [{ LiveUpdates }, { buildHeraldSchema }, { guardSchema }, { checkInputText }, { mountGraphql }] = await Promise.all([
    import('./live/live-updates'),
    import('./graphql/schema'),
    import('./graphql/deadline'),
    import('./graphql/input-text'),
    import('./graphql/server'),
  ]);
  const live = new LiveUpdates(parts.bus, db, log, config.live);
  started.push({ name: 'live updates', stop: async () => live.stop() });
  // Every configured provider, as the workers report it.
  const providers = new PgProviderDirectory(db, parts.bus, log, parts.providerListing);
  started.push({ name: 'providers directory', stop: async () => providers.stop() });
  const failedAuth = new FailedAuthLimiter(config.limits.authFailuresPerMinute, log);
  started.push({ name: 'failed-authentication limiter', stop: async () => failedAuth.stop() });
  const cost = new CostBudget(db, config.limits.costPerMinute, log, () => monitor.problem() != null, (listener) => monitor.onDown(listener));
  // Stopped after the http server has drained: the charges it granted last are written, not lost.
  started.push({ name: 'cost budget', stop: () => cost.flush() });
  const services: Services = {
    db,
    log,
    timers: parts.timers,
    live,
    campaign: config.campaign,
    testSender: { outbox: parts.outbox, requestTimeoutMs: config.dispatch.requestTimeoutMs },
    providers,
    reports: reportQueue(parts.timers),
    onSettled: parts.onSettled,
    webhookPolicy: { production: config.nodeEnv === 'production', allowPrivate: config.webhooks.allowPrivate },
    budgets: {
      cost,
      failedAuth,
    },
  };
  // In production without API_TOKENS, config has made sure OIDC_ISSUER is set: no dev token then.
  const tokens = new TokenRegistry(config.apiTokens ?? (config.nodeEnv === 'production' ? [] : await devAdminToken(config, log)));
  const auth = new Authenticator(tokens, config.oidc ? new OidcVerifier(config.oidc) : null);
  const schema = guardSchema(checkInputText(await buildHeraldSchema()), {
    databaseProblem: () => monitor.problem(),
    onDatabaseDown: (listener) => monitor.onDown(listener),
    requestTimeoutMs: config.graphqlRequestTimeoutMs,
  });
  const observer: OperationObserver | undefined = metrics && {
    started: (type) => metrics.graphqlStarted(type),
    finished: (...operation) => metrics.graphqlFinished(...operation),
  };
  const fanoutObserver = metrics && {
    executionStarted: () => metrics.liveExecutions.inc(),
    executionEnded: () => metrics.liveExecutions.dec(),
    skipped: () => metrics.liveSkipped.inc(),
  };
  return {
    auth,
    mount: ((app, server) =>
      mountGraphql(app, server, { schema, services, auth, maxDepth: config.graphqlMaxDepth, limits: config.limits, corsOrigins: config.corsOrigins, observer, fanoutObserver })) satisfies GraphqlMount,
  };
}

/** Without API_TOKENS (never in production: config refuses), one admin token kept on disk. */
async function devAdminToken(config: Config, log: Logger) {
  const { token, file } = await ensureDevAdminToken(config.dataDir);
  log.warn({ file }, 'API_TOKENS is not set: using the development admin token kept in this file');
  // Printed for the person at the terminal, once, without the token itself.
  process.stderr.write(
    `\nNo API_TOKENS set: Herald made an admin token for development and keeps it in ${file}\n` +
      `Use it as:  curl -H "Authorization: Bearer $(cat ${path.relative(process.cwd(), file)})" ...\n\n`,
  );
  return [{ role: 'admin' as const, token }];
}

/** What the person at the terminal reads once Herald listens: where the console is, and whether messages go to a simulator. */
export function startBanner(url: string, config: Config, simulator: { controls: boolean; mode: string } | undefined): string {
  const shown = url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
  const lines = ['', `Herald is ready (${config.role}).`, `  Console:   ${shown}/`, `  GraphQL:   ${shown}/graphql`];
  if (simulator) {
    lines.push(`  Simulator: messages go to the built-in gateway simulator (${simulator.mode}), never to a phone.`);
    if (simulator.controls) lines.push(`             Its controls: ${shown}/_sim/stats, POST ${shown}/_sim/mode {"mode":"flaky"} (docs/development.md)`);
    if (simulator.mode === 'steady') lines.push('             SENDER_SIMULATOR_MODE=flaky makes it slow, failing and down by turns, as real gateways are.');
  }
  return lines.join('\n') + '\n\n';
}

/** A start-up failure whose message already says what went wrong and what to do. */
export class StartupError extends Error {}

function listenFailure(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  if (error.code === 'EADDRINUSE') return new StartupError(`${where} is already in use by another process (set PORT or HOST)`);
  if (error.code === 'EACCES') return new StartupError(`not allowed to listen on ${where} (a port below 1024 needs privileges; set PORT)`);
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') return new StartupError(`${host} is not an address of this machine (set HOST)`);
  return error;
}

async function assertCanListen(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error: NodeJS.ErrnoException) => reject(listenFailure(error, host, port)));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** The one line a failed start-up is reported as. */
export function startupFailure(error: unknown, config: Config): string {
  if (error instanceof StartupError || error instanceof EmbeddedPostgresError) return error.message;
  const target = config.databaseUrl ? databaseTarget(config.databaseUrl) : 'the embedded PostgreSQL';
  if (isDatabaseUnavailable(error)) return `the database at ${target} does not answer (${describeDatabaseError(error)}); check DATABASE_URL and that PostgreSQL runs`;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '28P01' || code === '28000') return `the database at ${target} refused Herald's user or password (DATABASE_URL)`;
  if (code === '3D000') return `the database named in DATABASE_URL does not exist at ${target}`;
  return describeDatabaseError(error);
}

/** host:port/database of a DATABASE_URL, never its password. */
function databaseTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Herald cannot start: ${error.message}\n`);
    process.exit(1);
  }
  const log = createLogger(config.logLevel, undefined, { repeatIntervalMs: config.logRepeatIntervalMs });
  if (config.role === 'worker') lowerPriority(config.workerNice, log);
  let herald: Herald;
  try {
    herald = await startHerald(config, log);
  } catch (err) {
    // One line that says what to do, in the log and for the person at the terminal; no stack.
    const reason = startupFailure(err, config);
    log.fatal({ reason }, 'Herald failed to start');
    process.stderr.write(`Herald cannot start: ${reason}\n`);
    process.exit(1);
  }
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) return; // shutdown is under way; a second signal does not cut it short
      signalled = true;
      log.info({ signal }, 'shutting down');
      herald.stop().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

/**
 * Interactive work first: a worker process sends flat out and would take its share of the
 * cores from an api process beside it, whose answers someone is waiting for. At a lower
 * priority it takes what the api leaves. Done here, for the process Herald is, never in
 * startHerald (a test starts roles inside its own process). PostgreSQL's backends keep
 * theirs.
 */
function lowerPriority(by: number, log: Logger): void {
  if (by === 0) return;
  try {
    const nice = Math.min(19, os.getPriority() + by);
    os.setPriority(nice);
    log.info({ nice }, 'worker at a lower CPU priority (WORKER_NICE)');
  } catch (err) {
    log.warn({ err }, 'could not lower the worker\'s CPU priority (WORKER_NICE)');
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
