import { z } from 'zod';
import { FLAKY_CYCLE_MS, SIMULATOR_MODES } from './gateway/simulator.flaky';
import { parseDelay } from './gateway/simulator.receipts';
import { parseFrequencyCap } from './mailings/frequency-cap';
import { loadProvidersFile, ProvidersFileError, type ProvidersConfig } from './providers/providers.file';
import { checkCron, isTimeZone } from './reports/report.schedule';
import { DEFAULT_OPT_IN_KEYWORDS, DEFAULT_OPT_OUT_KEYWORDS, normalizeKeyword } from './inbound/inbound.keywords';

/**
 * Herald's whole configuration, read from the environment once at start-up. Each variable
 * is named once, in `variables` below, with its rule and default; the Config type is derived
 * from it and from `toConfig`, never written out by hand. The configuration table in docs/configuration.md
 * repeats the defaults; a test checks that it names every variable.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const ROLES = ['admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const port = z.coerce.number().int().min(0).max(65535);
const ms = (min: number) => z.coerce.number().int().min(min);

const apiTokens = z.string().transform((raw, ctx) => {
  const tokens: { role: Role; token: string }[] = [];
  let entries = 0;
  for (const [i, entry] of raw.split(',').entries()) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    entries++;
    const colon = trimmed.indexOf(':');
    const role = colon < 0 ? '' : trimmed.slice(0, colon);
    const token = colon < 0 ? '' : trimmed.slice(colon + 1);
    // The message names the entry's position, never its text: it holds a secret.
    if (!(ROLES as readonly string[]).includes(role)) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1} must be role:token with role admin or viewer` });
    } else if (token.length < 16) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1} has a token shorter than 16 characters` });
    } else {
      tokens.push({ role: role as Role, token });
    }
  }
  if (entries === 0) ctx.addIssue({ code: 'custom', message: 'no role:token entry given' });
  return tokens;
});

/**
 * Browser origins allowed besides Herald's own: `https://app.example.com,http://localhost:5173`.
 * Each must be scheme, host and optional port, nothing more, as a browser sends it in
 * `Origin`; it is kept in that form (lower case, no trailing slash, no default port).
 */
const origins = z.string().transform((raw, ctx) => {
  const list: string[] = [];
  for (const entry of raw.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      // reported below
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username || entry.endsWith('/')) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not an origin such as https://app.example.com` });
    } else {
      list.push(url.origin);
    }
  }
  return list;
});

/**
 * Reply keywords, comma-separated: each trimmed, inner whitespace collapsed, upper-cased (as
 * replies are compared: src/inbound/inbound.keywords.ts), deduplicated; at least one.
 */
const keywords = z.string().transform((raw, ctx) => {
  const list = [...new Set(raw.split(',').map(normalizeKeyword).filter((k) => k !== ''))];
  if (list.length === 0) ctx.addIssue({ code: 'custom', message: 'must name at least one keyword (comma-separated)' });
  return list;
});

const count = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** Every environment variable Herald reads, with its rule and default. */
export const variables = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HERALD_ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  WORKER_NICE: count(0, 19).default(10),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').optional(),
  DATABASE_DIRECT_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(4000),
  API_TOKENS: apiTokens.optional(),
  SENDER_URL: z.url({ protocol: /^https?$/ }).optional(),
  SENDER_TOKEN: z.string().min(1).optional(),
  SENDER_RECEIPT_TOKEN: z.string().min(16).optional(),
  RECEIPT_PARK_MS: ms(100).default(600_000),
  PROVIDERS_FILE: z.string().min(1).optional(),
  SENDER_SIMULATOR: flag.optional(),
  SENDER_SIMULATOR_MODE: z.enum(SIMULATOR_MODES).default('steady'),
  SENDER_SIMULATOR_FLAKY_CYCLE_MS: ms(1_000).default(FLAKY_CYCLE_MS),
  SENDER_SIMULATOR_RECEIPTS: flag.default(true),
  SENDER_SIMULATOR_DELIVERED_RATE: z.coerce.number().min(0).max(1).default(0.9),
  SENDER_SIMULATOR_RECEIPT_DELAY_MS: z
    .string()
    .transform((raw, ctx) => parseDelay(raw) ?? (ctx.addIssue({ code: 'custom', message: 'must be ms, or min-max ms such as 200-2000' }), z.NEVER))
    .default([200, 2_000]),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: port.default(54329),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(100).default(12),
  CORS_ORIGINS: origins.default([]),
  MAX_SEGMENTS: z.coerce.number().int().min(1).max(50).default(6),
  FREQUENCY_CAP: z
    .string()
    .transform((raw, ctx) => parseFrequencyCap(raw) ?? (ctx.addIssue({ code: 'custom', message: 'must be a count per window such as 2/24h (units s, m, h, d)' }), z.NEVER))
    .optional(),
  MAX_FAILURE_RATE: z.coerce.number().gt(0).max(1).default(0.5),
  LIVE_INTERVAL_MS: ms(50).default(250),
  LIVE_HEARTBEAT_MS: ms(100).default(1_000),
  LIVE_RECEIPT_IDLE_MS: ms(100).default(600_000),
  SENDER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(50),
  SENDER_RATE_LIMIT: z.coerce.number().min(0).default(0),
  SENDER_TIMEOUT_MS: ms(100).default(10_000),
  RETRY_BASE_MS: ms(10).default(1_000),
  RETRY_MAX_MS: ms(10).default(60_000),
  BREAKER_WINDOW: z.coerce.number().int().min(2).max(10_000).default(50),
  BREAKER_MIN_CALLS: z.coerce.number().int().min(1).default(20),
  BREAKER_FAILURE_RATE: z.coerce.number().gt(0).max(1).default(0.5),
  BREAKER_OPEN_MS: ms(10).default(500),
  BREAKER_MAX_OPEN_MS: ms(10).default(2_000),
  BREAKER_HALF_OPEN_CALLS: z.coerce.number().int().min(1).default(5),
  AUTH_PROBE_MS: ms(10).default(5_000),
  DISPATCH_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(200),
  DISPATCH_POLL_MS: ms(5).default(200),
  DISPATCH_FLUSH_MS: ms(1).max(1_000).default(50),
  LEASE_MS: ms(100).optional(),
  TIMER_POLL_MS: ms(500).default(500),
  SWEEP_MS: ms(100).default(10_000),
  // Operability (metrics, the daily report)
  METRICS_ENABLED: z.stringbool().default(true),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_CACHE_MS: ms(0).default(5_000),
  REPORT_CRON: z.string().min(1).default('0 8 * * *'),
  REPORT_TIMEZONE: z.string().min(1).default('UTC'),
  REPORT_TO: z.string().min(3).optional(),
  REPORT_FROM: z.string().min(3).default('Herald <herald@localhost>'),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  REPORT_RETRY_DELAY_S: z.coerce.number().int().min(1).default(60),
  // Messages in partitions by ranges of mailing id, aged out (issue 22, docs/retention.md).
  MESSAGE_PARTITION_MS: ms(1_000).default(86_400_000),
  MESSAGE_PARTITION_MAILINGS: z.coerce.number().int().min(1).max(1_000_000_000).default(10_000),
  MESSAGE_RETENTION_DAYS: z.coerce.number().positive().optional(),
  ARCHIVE_DIR: z.string().min(1).optional(),
  PARTITION_CRON: z.string().min(1).default('*/10 * * * *'),
  // Tokens from an identity provider, bounded cost, rate limits (issue 10, the API's half).
  OIDC_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  OIDC_ROLE_CLAIM: z.string().min(1).default('roles'),
  OIDC_CLOCK_SKEW_S: count(0, 300).default(30),
  OIDC_JWKS_COOLDOWN_MS: ms(0).default(30_000),
  GRAPHQL_MAX_COST: count(1).default(25_000),
  GRAPHQL_MAX_ALIASES: count(0, 10_000).default(50),
  GRAPHQL_MAX_DOCUMENT_BYTES: count(1_000).default(100_000),
  GRAPHQL_MAX_BODY_BYTES: count(16_384).default(8 * 1024 * 1024),
  GRAPHQL_BATCHING: count(0, 100).default(0),
  GRAPHQL_INTROSPECTION: flag.optional(),
  RATE_LIMIT_COST_PER_MINUTE: count(0).default(200_000),
  AUTH_FAILURES_PER_MINUTE: count(1).default(30),
  WS_MAX_CONNECTIONS_PER_TOKEN: count(1).default(20),
  WS_MAX_SUBSCRIPTIONS: count(1).default(50),
  WS_INIT_TIMEOUT_MS: ms(100).default(3_000),
  WS_MAX_MESSAGES_PER_SECOND: count(1).default(50),
  WS_MAX_PAYLOAD_BYTES: count(4_096).default(1024 * 1024),
  WS_MAX_BUFFERED_BYTES: count(1_024).default(256 * 1024),
  WS_LIVE_FRAMES_PER_SECOND: count(100).default(5_000),
  // Replies (issue 19): a reply that is exactly one of these opts its phone out, or back in.
  OPT_OUT_KEYWORDS: keywords.default(DEFAULT_OPT_OUT_KEYWORDS),
  OPT_IN_KEYWORDS: keywords.default(DEFAULT_OPT_IN_KEYWORDS),
  // Hardening (issue 10): the database going away, timeouts, repeated log lines.
  DB_CONNECT_TIMEOUT_MS: ms(100).default(5_000),
  DB_STATEMENT_TIMEOUT_MS: ms(0).default(30_000),
  DB_PROBE_MS: ms(100).default(1_000),
  GRAPHQL_REQUEST_TIMEOUT_MS: ms(100).default(15_000),
  LOG_REPEAT_INTERVAL_MS: ms(100).default(10_000),
  // Webhooks (issue 19): signed events to other systems, from the outbox in PostgreSQL.
  WEBHOOK_ALLOW_PRIVATE: flag.default(false),
  WEBHOOK_TIMEOUT_MS: ms(100).default(5_000),
  WEBHOOK_RETRY_BASE_MS: ms(1).default(1_000),
  WEBHOOK_RETRY_MAX_MS: ms(1).default(3_600_000),
  WEBHOOK_RETRY_FOR_MS: ms(100).default(86_400_000),
  WEBHOOK_POLL_MS: ms(5).default(200),
  WEBHOOK_WINDOW: count(1, 256).default(32),
  WEBHOOK_BATCH_SIZE: count(1, 10_000).default(500),
  WEBHOOK_RETENTION_DAYS: count(1).default(7),
};

const envSchema = z.object(variables);
type Env = z.output<typeof envSchema>;

function toConfig(e: Env) {
  return {
    nodeEnv: e.NODE_ENV,
    /** api: GraphQL only; worker: dispatcher and timers only; all: both */
    role: e.HERALD_ROLE,
    /**
     * How much a worker process (HERALD_ROLE=worker) lowers its own CPU priority at start
     * (nice), so that an api process on the same host answers first while a mailing
     * dispatches flat out; 0 leaves it as started.
     */
    workerNice: e.WORKER_NICE,
    databaseUrl: e.DATABASE_URL,
    /**
     * The same database without a pooler in between, for what needs a session of its own
     * (LISTEN, migrations' and pg-boss's session locks); unset: DATABASE_URL serves for all.
     * Set, it says that DATABASE_URL goes through a pooler in transaction mode (PgBouncer):
     * statements on it are then not prepared (docs/operations.md, "Behind PgBouncer").
     */
    databaseDirectUrl: e.DATABASE_DIRECT_URL,
    host: e.HOST,
    port: e.PORT,
    apiTokens: e.API_TOKENS,
    senderUrl: e.SENDER_URL,
    senderToken: e.SENDER_TOKEN,
    /** the bearer token the default provider posts receipts and replies with (its receiptToken) */
    senderReceiptToken: e.SENDER_RECEIPT_TOKEN,
    /** a receipt no message matched is kept this long (it may have come before its SENT), then dropped as unknown */
    receiptParkMs: e.RECEIPT_PARK_MS,
    /** the providers and routes of PROVIDERS_FILE (loadConfig reads it), or null: SENDER_URL or the simulator as `default` */
    providers: null as ProvidersConfig | null,
    /** send to the built-in simulator: asked for (SENDER_SIMULATOR), or by default outside production with no provider */
    simulator: e.SENDER_SIMULATOR ?? (!e.PROVIDERS_FILE && !e.SENDER_URL && e.NODE_ENV !== 'production'),
    /** what the built-in simulator reports back: receipts on or off, the share delivered, their delay (ms, or a uniform range) */
    /** how the built-in simulator behaves: steady (at once, never failing) or flaky (simulator.flaky.ts), and a flaky one's cycle */
    simulatorMode: { mode: e.SENDER_SIMULATOR_MODE, flakyCycleMs: e.SENDER_SIMULATOR_FLAKY_CYCLE_MS },
    simulatorReceipts: { receipts: e.SENDER_SIMULATOR_RECEIPTS, deliveredRate: e.SENDER_SIMULATOR_DELIVERED_RATE, receiptDelayMs: e.SENDER_SIMULATOR_RECEIPT_DELAY_MS },
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    graphqlMaxDepth: e.GRAPHQL_MAX_DEPTH,
    /** origins other than Herald's own that browsers may call it from (HTTP and websocket) */
    corsOrigins: e.CORS_ORIGINS,
    live: { progressIntervalMs: e.LIVE_INTERVAL_MS, heartbeatMs: e.LIVE_HEARTBEAT_MS, receiptIdleMs: e.LIVE_RECEIPT_IDLE_MS },
    campaign: {
      /** texts billed as more parts than this are refused */
      maxSegments: e.MAX_SEGMENTS,
      /** the cap for mailings without one of their own; null: none */
      frequencyCap: e.FREQUENCY_CAP ?? null,
      /** a mailing whose last results fail more than this pauses itself (unless it has its own) */
      maxFailureRate: e.MAX_FAILURE_RATE,
    },
    dispatch: {
      concurrency: e.SENDER_CONCURRENCY,
      rateLimit: e.SENDER_RATE_LIMIT,
      requestTimeoutMs: e.SENDER_TIMEOUT_MS,
      retryBaseMs: e.RETRY_BASE_MS,
      retryMaxMs: e.RETRY_MAX_MS,
      breaker: {
        window: e.BREAKER_WINDOW,
        minCalls: e.BREAKER_MIN_CALLS,
        failureRate: e.BREAKER_FAILURE_RATE,
        openMs: e.BREAKER_OPEN_MS,
        maxOpenMs: e.BREAKER_MAX_OPEN_MS,
        halfOpenCalls: e.BREAKER_HALF_OPEN_CALLS,
      },
      authProbeMs: e.AUTH_PROBE_MS,
      batchSize: e.DISPATCH_BATCH_SIZE,
      pollMs: e.DISPATCH_POLL_MS,
      flushMs: e.DISPATCH_FLUSH_MS,
      // A message handed to a process stays its own this long; then (the process died or
      // hung) another may send it. It must outlast a request and the writing of its result.
      leaseMs: e.LEASE_MS ?? e.SENDER_TIMEOUT_MS + 30_000,
      timerPollMs: e.TIMER_POLL_MS,
      sweepMs: e.SWEEP_MS,
    },
    metrics: {
      /** off: no /metrics and nothing counted (for the bench's side-by-side) */
      enabled: e.METRICS_ENABLED,
      /** when set, /metrics wants `Authorization: Bearer <token>` */
      token: e.METRICS_TOKEN ?? null,
      /** figures read from the database at a scrape are reused this long */
      cacheMs: e.METRICS_CACHE_MS,
    },
    report: {
      cron: e.REPORT_CRON,
      timezone: e.REPORT_TIMEZONE,
      /** no daily report without it; the mutation names its own recipient */
      to: e.REPORT_TO ?? null,
      from: e.REPORT_FROM,
      /** null: written as .eml files under DATA_DIR/outbox/ (development) */
      smtpUrl: e.SMTP_URL ?? null,
      retryDelayS: e.REPORT_RETRY_DELAY_S,
    },
    partitions: {
      /** a partition takes new mailings this long, then the next one does */
      periodMs: e.MESSAGE_PARTITION_MS,
      /** mailing ids in a partition's range: more mailings than that in a period turn a new one sooner */
      mailings: e.MESSAGE_PARTITION_MAILINGS,
      /** null: keep every message */
      retentionMs: e.MESSAGE_RETENTION_DAYS === undefined ? null : Math.round(e.MESSAGE_RETENTION_DAYS * 86_400_000),
      /** null: dropped partitions are not archived */
      archiveDir: e.ARCHIVE_DIR ?? null,
      /** when a worker looks at the partitions (creates ahead, turns one on, prunes), in UTC */
      cron: e.PARTITION_CRON,
    },
    /** JWT bearer tokens from an OIDC issuer, besides API_TOKENS; null: none */
    oidc: e.OIDC_ISSUER
      ? {
          issuer: e.OIDC_ISSUER,
          audience: e.OIDC_AUDIENCE ?? '',
          roleClaim: e.OIDC_ROLE_CLAIM,
          clockSkewS: e.OIDC_CLOCK_SKEW_S,
          jwksCooldownMs: e.OIDC_JWKS_COOLDOWN_MS,
        }
      : null,
    inbound: {
      /** a reply that is one of these (normalised) opts its phone out */
      optOutKeywords: e.OPT_OUT_KEYWORDS,
      /** and one of these lifts its opt-out */
      optInKeywords: e.OPT_IN_KEYWORDS,
    },
    /** what one GraphQL request may ask for, checked before it runs (HTTP and websocket) */
    limits: {
      maxCost: e.GRAPHQL_MAX_COST,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxDocumentBytes: e.GRAPHQL_MAX_DOCUMENT_BYTES,
      maxBodyBytes: e.GRAPHQL_MAX_BODY_BYTES,
      /** operations one HTTP array may hold; 0: arrays refused */
      batching: e.GRAPHQL_BATCHING,
      introspection: e.GRAPHQL_INTROSPECTION ?? e.NODE_ENV !== 'production',
      /** 0: no budget */
      costPerMinute: e.RATE_LIMIT_COST_PER_MINUTE,
      authFailuresPerMinute: e.AUTH_FAILURES_PER_MINUTE,
      ws: {
        maxConnectionsPerToken: e.WS_MAX_CONNECTIONS_PER_TOKEN,
        maxSubscriptions: e.WS_MAX_SUBSCRIPTIONS,
        initTimeoutMs: e.WS_INIT_TIMEOUT_MS,
        maxMessagesPerSecond: e.WS_MAX_MESSAGES_PER_SECOND,
        maxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
        /** a socket with more than this unsent is skipped by live events until it drains (subscription.fanout.ts) */
        maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
        /** snapshot events (progress, statistics) written a second, over all sockets: a large audience gets them less often */
        liveFramesPerSecond: e.WS_LIVE_FRAMES_PER_SECOND,
      },
    },
    database: {
      /** a connection to PostgreSQL not made within this fails (the request: SERVICE_UNAVAILABLE) */
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      /** PostgreSQL cancels a statement of Herald's pools running longer (0: never); not migrations nor an audience's creation */
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
      /** how often whether the database answers is checked (/readyz, fast refusals) */
      probeMs: e.DB_PROBE_MS,
    },
    /** a GraphQL query or mutation still waiting this long is answered SERVICE_UNAVAILABLE */
    graphqlRequestTimeoutMs: e.GRAPHQL_REQUEST_TIMEOUT_MS,
    /** a repeated warning is written once per kind per this interval, with a count of those left out */
    logRepeatIntervalMs: e.LOG_REPEAT_INTERVAL_MS,
    webhooks: {
      /** loopback, private and link-local URLs allowed in production too (outside production they always are) */
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      /** a delivery not answered 2xx within this is retried */
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
      /** an event is retried this long after it happened, then FAILED; a webhook failing this long is disabled */
      retryForMs: e.WEBHOOK_RETRY_FOR_MS,
      pollMs: e.WEBHOOK_POLL_MS,
      /** requests in flight per webhook at most */
      window: e.WEBHOOK_WINDOW,
      /** deliveries one webhook's round claims at most */
      batchSize: e.WEBHOOK_BATCH_SIZE,
      retentionDays: e.WEBHOOK_RETENTION_DAYS,
    },
  };
}

export type Config = ReturnType<typeof toConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    // One problem is one line; several, one line each under the heading.
    super(problems.length === 1 ? `invalid configuration: ${problems[0]}` : `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses the environment; throws a ConfigError that lists every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as it does for most tools and for compose files.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const config = toConfig(e);
  const problems: string[] = [];
  if (e.NODE_ENV === 'production' && e.HERALD_ROLE !== 'worker' && !e.API_TOKENS && !e.OIDC_ISSUER) {
    problems.push('API_TOKENS: required when NODE_ENV=production (comma-separated role:token), unless OIDC_ISSUER is set');
  }
  if (e.DATABASE_DIRECT_URL && !e.DATABASE_URL) problems.push('DATABASE_DIRECT_URL: set only with DATABASE_URL (the pooled URL it stands beside)');
  if (e.SENDER_URL && !e.SENDER_TOKEN) problems.push('SENDER_TOKEN: required when SENDER_URL is set');
  if (e.PROVIDERS_FILE && e.SENDER_URL) problems.push('SENDER_URL: set PROVIDERS_FILE or SENDER_URL, not both (a file names every provider)');
  if (e.PROVIDERS_FILE && !e.SENDER_URL) {
    try {
      config.providers = loadProvidersFile(e.PROVIDERS_FILE, env);
    } catch (error) {
      if (!(error instanceof ProvidersFileError)) throw error;
      problems.push(`PROVIDERS_FILE: ${error.message}`);
    }
  }
  // One missing variable in a deploy must not make a campaign "succeed" into the simulator.
  if (e.NODE_ENV === 'production' && !e.PROVIDERS_FILE && !e.SENDER_URL && e.SENDER_SIMULATOR !== true) {
    problems.push('PROVIDERS_FILE or SENDER_URL: required when NODE_ENV=production (no provider is configured); SENDER_SIMULATOR=true sends to the built-in simulator instead');
  }
  if (e.SENDER_SIMULATOR === true && (e.PROVIDERS_FILE || e.SENDER_URL)) problems.push('SENDER_SIMULATOR: the simulator is not used with PROVIDERS_FILE or SENDER_URL; unset one');
  if (e.RETRY_MAX_MS < e.RETRY_BASE_MS) problems.push('RETRY_MAX_MS: must not be below RETRY_BASE_MS');
  if (e.BREAKER_MAX_OPEN_MS < e.BREAKER_OPEN_MS) problems.push('BREAKER_MAX_OPEN_MS: must not be below BREAKER_OPEN_MS');
  if (e.BREAKER_MIN_CALLS > e.BREAKER_WINDOW) problems.push('BREAKER_MIN_CALLS: must not exceed BREAKER_WINDOW');
  // Another process may send a message once its lease is over: not before its request could
  // have timed out and its result been written.
  if (config.dispatch.leaseMs <= e.SENDER_TIMEOUT_MS + e.DISPATCH_FLUSH_MS) {
    problems.push('LEASE_MS: must be longer than SENDER_TIMEOUT_MS + DISPATCH_FLUSH_MS');
  }
  if (!isTimeZone(e.REPORT_TIMEZONE)) problems.push('REPORT_TIMEZONE: must be an IANA time zone such as Europe/Moscow');
  const cronProblem = checkCron(e.REPORT_CRON);
  if (cronProblem) problems.push(`REPORT_CRON: ${cronProblem}`);
  const partitionCronProblem = checkCron(e.PARTITION_CRON);
  if (partitionCronProblem) problems.push(`PARTITION_CRON: ${partitionCronProblem}`);
  if (e.NODE_ENV === 'production' && e.REPORT_TO && !e.SMTP_URL) problems.push('SMTP_URL: required for REPORT_TO when NODE_ENV=production');
  if (e.OIDC_ISSUER && !e.OIDC_AUDIENCE) problems.push('OIDC_AUDIENCE: required when OIDC_ISSUER is set');
  // A budget below one operation's largest cost would refuse that operation for ever.
  if (e.RATE_LIMIT_COST_PER_MINUTE > 0 && e.RATE_LIMIT_COST_PER_MINUTE < e.GRAPHQL_MAX_COST) {
    problems.push('RATE_LIMIT_COST_PER_MINUTE: must be 0 (no budget) or at least GRAPHQL_MAX_COST');
  }
  const both = e.OPT_IN_KEYWORDS.filter((k) => e.OPT_OUT_KEYWORDS.includes(k));
  if (both.length > 0) problems.push(`OPT_IN_KEYWORDS: ${both.join(', ')} is in OPT_OUT_KEYWORDS too; a keyword does one thing`);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
