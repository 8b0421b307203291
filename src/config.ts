import { z } from 'zod';

/**
 * Herald's whole configuration, read from the environment once at start-up.
 * The README's configuration table repeats the defaults below; keep the two in step.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const ROLES = ['admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const port = z.coerce.number().int().min(0).max(65535);

const apiTokens = z
  .string()
  .transform((raw, ctx) => {
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

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HERALD_ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  LIVE_INTERVAL_MS: z.coerce.number().int().min(50).default(250),
  LIVE_HEARTBEAT_MS: z.coerce.number().int().min(100).default(1_000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(4000),
  API_TOKENS: apiTokens.optional(),
  SENDER_URL: z.url({ protocol: /^https?$/ }).optional(),
  SENDER_TOKEN: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: port.default(54329),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(100).default(12),
  CORS_ORIGINS: origins.default([]),
  SENDER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(50),
  SENDER_RATE_LIMIT: z.coerce.number().min(0).default(0),
  SENDER_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  RETRY_BASE_MS: z.coerce.number().int().min(10).default(1_000),
  RETRY_MAX_MS: z.coerce.number().int().min(10).default(60_000),
  BREAKER_THRESHOLD: z.coerce.number().int().min(1).default(10),
  BREAKER_COOLDOWN_MS: z.coerce.number().int().min(10).default(1_000),
  AUTH_PROBE_MS: z.coerce.number().int().min(10).default(5_000),
  DISPATCH_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(200),
  DISPATCH_POLL_MS: z.coerce.number().int().min(5).default(200),
  LEASE_MS: z.coerce.number().int().min(100).optional(),
  TIMER_POLL_MS: z.coerce.number().int().min(500).default(500),
  SWEEP_MS: z.coerce.number().int().min(100).default(10_000),
});

export type Config = {
  nodeEnv: 'development' | 'production' | 'test';
  /** api: GraphQL only; worker: dispatcher and timers only; all: both */
  role: 'api' | 'worker' | 'all';
  databaseUrl: string | undefined;
  host: string;
  port: number;
  apiTokens: { role: Role; token: string }[] | undefined;
  senderUrl: string | undefined;
  senderToken: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  dataDir: string;
  embeddedPgPort: number;
  graphqlMaxDepth: number;
  /** origins other than Herald's own that browsers may call it from (HTTP and websocket) */
  corsOrigins: string[];
  live: { progressIntervalMs: number; heartbeatMs: number };
  dispatch: {
    concurrency: number;
    rateLimit: number;
    requestTimeoutMs: number;
    retryBaseMs: number;
    retryMaxMs: number;
    breakerThreshold: number;
    breakerCooldownMs: number;
    authProbeMs: number;
    batchSize: number;
    pollMs: number;
    leaseMs: number;
    timerPollMs: number;
    sweepMs: number;
  };
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
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
  const problems: string[] = [];
  if (e.NODE_ENV === 'production' && e.HERALD_ROLE !== 'worker' && !e.API_TOKENS) {
    problems.push('API_TOKENS: required when NODE_ENV=production (comma-separated role:token)');
  }
  if (e.SENDER_URL && !e.SENDER_TOKEN) problems.push('SENDER_TOKEN: required when SENDER_URL is set');
  if (e.RETRY_MAX_MS < e.RETRY_BASE_MS) problems.push('RETRY_MAX_MS: must not be below RETRY_BASE_MS');
  // A batch's transaction sits idle while its requests are out; PostgreSQL must not end it
  // (and free its messages for another dispatcher to send again) before a request can time out.
  const leaseMs = e.LEASE_MS ?? e.SENDER_TIMEOUT_MS + 30_000;
  if (leaseMs <= e.SENDER_TIMEOUT_MS) problems.push('LEASE_MS: must be longer than SENDER_TIMEOUT_MS');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    nodeEnv: e.NODE_ENV,
    role: e.HERALD_ROLE,
    databaseUrl: e.DATABASE_URL,
    host: e.HOST,
    port: e.PORT,
    apiTokens: e.API_TOKENS,
    senderUrl: e.SENDER_URL,
    senderToken: e.SENDER_TOKEN,
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    graphqlMaxDepth: e.GRAPHQL_MAX_DEPTH,
    corsOrigins: e.CORS_ORIGINS,
    live: { progressIntervalMs: e.LIVE_INTERVAL_MS, heartbeatMs: e.LIVE_HEARTBEAT_MS },
    dispatch: {
      concurrency: e.SENDER_CONCURRENCY,
      rateLimit: e.SENDER_RATE_LIMIT,
      requestTimeoutMs: e.SENDER_TIMEOUT_MS,
      retryBaseMs: e.RETRY_BASE_MS,
      retryMaxMs: e.RETRY_MAX_MS,
      breakerThreshold: e.BREAKER_THRESHOLD,
      breakerCooldownMs: e.BREAKER_COOLDOWN_MS,
      authProbeMs: e.AUTH_PROBE_MS,
      batchSize: e.DISPATCH_BATCH_SIZE,
      pollMs: e.DISPATCH_POLL_MS,
      leaseMs,
      timerPollMs: e.TIMER_POLL_MS,
      sweepMs: e.SWEEP_MS,
    },
  };
}
