import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, variables } from '../src/config';
import { createLogger } from '../src/logger';
import { providersOf } from '../src/providers/providers.build';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('should fill in the documented defaults from an empty environment', () => {
    expect(loadConfig({})).toEqual({
      nodeEnv: 'development',
      role: 'all',
      workerNice: 10,
      databaseUrl: undefined,
      host: '127.0.0.1',
      port: 4000,
      apiTokens: undefined,
      senderUrl: undefined,
      senderToken: undefined,
      senderReceiptToken: undefined,
      receiptParkMs: 600_000,
      providers: null,
      simulator: true,
      simulatorMode: { mode: 'steady', flakyCycleMs: 60_000 },
      simulatorReceipts: { receipts: true, deliveredRate: 0.9, receiptDelayMs: [200, 2_000] },
      logLevel: 'info',
      dataDir: '.data',
      embeddedPgPort: 54329,
      graphqlMaxDepth: 12,
      corsOrigins: [],
      live: { progressIntervalMs: 250, heartbeatMs: 1_000, receiptIdleMs: 600_000 },
      campaign: { maxSegments: 6, frequencyCap: null, maxFailureRate: 0.5 },
      metrics: { enabled: true, token: null, cacheMs: 5_000 },
      report: { cron: '0 8 * * *', timezone: 'UTC', to: null, from: 'Herald <herald@localhost>', smtpUrl: null, retryDelayS: 60 },
      partitions: { periodMs: 86_400_000, mailings: 10_000, retentionMs: null, archiveDir: null, cron: '*/10 * * * *' },
      dispatch: {
        concurrency: 50,
        rateLimit: 0,
        requestTimeoutMs: 10_000,
        retryBaseMs: 1_000,
        retryMaxMs: 60_000,
        breaker: { window: 50, minCalls: 20, failureRate: 0.5, openMs: 500, maxOpenMs: 2_000, halfOpenCalls: 5 },
        authProbeMs: 5_000,
        batchSize: 200,
        pollMs: 200,
        flushMs: 50,
        leaseMs: 40_000,
        timerPollMs: 500,
        sweepMs: 10_000,
      },
      oidc: null,
      inbound: {
        optOutKeywords: ['STOP', 'STOP ALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'СТОП', 'ОТПИСАТЬСЯ'],
        optInKeywords: ['START', 'UNSTOP', 'СТАРТ'],
      },
      limits: {
        maxCost: 25_000,
        maxAliases: 50,
        maxDocumentBytes: 100_000,
        maxBodyBytes: 8 * 1024 * 1024,
        batching: 0,
        introspection: true,
        costPerMinute: 200_000,
        authFailuresPerMinute: 30,
        ws: { maxConnectionsPerToken: 20, maxSubscriptions: 50, initTimeoutMs: 3_000, maxMessagesPerSecond: 50, maxPayloadBytes: 1024 * 1024, maxBufferedBytes: 256 * 1024, liveFramesPerSecond: 5_000 },
      },
      database: { connectTimeoutMs: 5_000, statementTimeoutMs: 30_000, probeMs: 1_000 },
      graphqlRequestTimeoutMs: 15_000,
      logRepeatIntervalMs: 10_000,
      webhooks: { allowPrivate: false, timeoutMs: 5_000, retryBaseMs: 1_000, retryMaxMs: 3_600_000, retryForMs: 86_400_000, pollMs: 200, window: 32, batchSize: 500, retentionDays: 7 },
    });
  });

  it('should treat empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', API_TOKENS: '' }).port).toBe(4000);
  });

  it('should parse API_TOKENS as comma-separated role:token pairs', () => {
    const config = loadConfig({ API_TOKENS: ' admin:aaaaaaaaaaaaaaaa1 , viewer:bbbbbbbbbbbbbbbb2,' });
    expect(config.apiTokens).toEqual([
      { role: 'admin', token: 'aaaaaaaaaaaaaaaa1' },
      { role: 'viewer', token: 'bbbbbbbbbbbbbbbb2' },
    ]);
  });

  it('should read OPT_OUT_KEYWORDS and OPT_IN_KEYWORDS as normalised lists, refusing an empty one and a keyword in both', () => {
    expect(loadConfig({ OPT_OUT_KEYWORDS: ' stop ,  Хватит  уже,STOP', OPT_IN_KEYWORDS: 'go' }).inbound).toEqual({ optOutKeywords: ['STOP', 'ХВАТИТ УЖЕ'], optInKeywords: ['GO'] });
    expect(problemsOf({ OPT_OUT_KEYWORDS: ' , ' })).toEqual(['OPT_OUT_KEYWORDS: must name at least one keyword (comma-separated)']);
    expect(problemsOf({ OPT_IN_KEYWORDS: 'start,стоп' })).toEqual(['OPT_IN_KEYWORDS: СТОП is in OPT_OUT_KEYWORDS too; a keyword does one thing']);
  });

  it('should report every problem at once', () => {
    const problems = problemsOf({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://x',
      SENDER_URL: 'not a url',
      GRAPHQL_MAX_DEPTH: '1',
      WORKER_NICE: '20',
    });
    for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'SENDER_URL', 'GRAPHQL_MAX_DEPTH', 'WORKER_NICE']) {
      expect(problems.some((p) => p.startsWith(`${name}:`)), `${name} in ${problems.join('; ')}`).toBe(true);
    }
  });

  it('should read DATABASE_DIRECT_URL beside DATABASE_URL only, as a postgres URL', () => {
    expect(loadConfig({}).databaseDirectUrl).toBeUndefined();
    const both = loadConfig({ DATABASE_URL: 'postgres://h:6432/herald', DATABASE_DIRECT_URL: 'postgres://h:5432/herald' });
    expect(both).toMatchObject({ databaseUrl: 'postgres://h:6432/herald', databaseDirectUrl: 'postgres://h:5432/herald' });
    expect(problemsOf({ DATABASE_DIRECT_URL: 'postgres://h:5432/herald' })).toEqual(['DATABASE_DIRECT_URL: set only with DATABASE_URL (the pooled URL it stands beside)']);
    expect(problemsOf({ DATABASE_URL: 'postgres://h:6432/herald', DATABASE_DIRECT_URL: 'mysql://h' })).toEqual(['DATABASE_DIRECT_URL: must be a postgres:// or postgresql:// URL']);
  });

  it('should refuse bad API_TOKENS entries without echoing the secret', () => {
    const problems = problemsOf({ API_TOKENS: 'root:supersecretvalue123,admin:Qx7zK9' });
    expect(problems).toHaveLength(2);
    expect(problems.join(' ')).toMatch(/entry 1 must be role:token/);
    expect(problems.join(' ')).toMatch(/entry 2 has a token shorter than 16/);
    expect(problems.join(' ')).not.toContain('supersecretvalue123');
    expect(problems.join(' ')).not.toContain('Qx7zK9');
  });

  it('should read CORS_ORIGINS as origins in the form browsers send them, and refuse anything else', () => {
    expect(loadConfig({ CORS_ORIGINS: ' https://App.example.com , http://localhost:5173,https://b.example:443' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
      'https://b.example',
    ]);
    const problems = problemsOf({ CORS_ORIGINS: 'https://a.example/app,*,https://b.example/' });
    expect(problems).toHaveLength(3);
    expect(problems.every((p) => p.startsWith('CORS_ORIGINS:'))).toBe(true);
  });

  it('should require API_TOKENS in production', () => {
    expect(problemsOf({ NODE_ENV: 'production', SENDER_URL: 'http://gateway.example', SENDER_TOKEN: 'gateway-token' })).toEqual([expect.stringMatching(/^API_TOKENS: required/)]);
    expect(loadConfig({ NODE_ENV: 'production', API_TOKENS: 'admin:aaaaaaaaaaaaaaaa1', SENDER_URL: 'http://gateway.example', SENDER_TOKEN: 'gateway-token' }).nodeEnv).toBe('production');
    // A worker serves no API, so it needs no tokens.
    expect(loadConfig({ NODE_ENV: 'production', HERALD_ROLE: 'worker', SENDER_URL: 'http://gateway.example', SENDER_TOKEN: 'gateway-token' }).role).toBe('worker');
  });

  it('should refuse a lease that does not outlast a request and the writing of its result', () => {
    expect(problemsOf({ SENDER_TIMEOUT_MS: '5000', LEASE_MS: '5000' })).toEqual([expect.stringMatching(/^LEASE_MS:/)]);
    expect(problemsOf({ SENDER_TIMEOUT_MS: '5000', DISPATCH_FLUSH_MS: '100', LEASE_MS: '5100' })).toEqual([expect.stringMatching(/^LEASE_MS:/)]);
    expect(loadConfig({ SENDER_TIMEOUT_MS: '5000', DISPATCH_FLUSH_MS: '100', LEASE_MS: '5101' }).dispatch.leaseMs).toBe(5101);
  });

  it('should refuse breaker settings that contradict each other', () => {
    expect(problemsOf({ BREAKER_OPEN_MS: '3000', BREAKER_MAX_OPEN_MS: '2000' })).toEqual([expect.stringMatching(/^BREAKER_MAX_OPEN_MS:/)]);
    expect(problemsOf({ BREAKER_WINDOW: '10', BREAKER_MIN_CALLS: '11' })).toEqual([expect.stringMatching(/^BREAKER_MIN_CALLS:/)]);
    expect(problemsOf({ BREAKER_FAILURE_RATE: '0' })).toEqual([expect.stringMatching(/^BREAKER_FAILURE_RATE:/)]);
  });

  it('should have every variable in the configuration table of docs/configuration.md, with its default', () => {
    const table = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    const defaults = loadConfig({});
    for (const name of Object.keys(variables)) expect(table, name).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
    expect(table).toMatch(/^\| `BREAKER_WINDOW` \| `50` \|/m);
    expect(defaults.dispatch.breaker.window).toBe(50);
  });

  it('should turn introspection off in production unless GRAPHQL_INTROSPECTION says otherwise', () => {
    const production = { NODE_ENV: 'production', API_TOKENS: 'admin:aaaaaaaaaaaaaaaa1', SENDER_URL: 'http://gateway.example', SENDER_TOKEN: 'gateway-token' };
    expect(loadConfig(production).limits.introspection).toBe(false);
    expect(loadConfig({ ...production, GRAPHQL_INTROSPECTION: 'true' }).limits.introspection).toBe(true);
    expect(loadConfig({ GRAPHQL_INTROSPECTION: 'false' }).limits.introspection).toBe(false);
  });

  it('should take OIDC settings, require an audience with an issuer, and let production run on OIDC alone', () => {
    expect(problemsOf({ OIDC_ISSUER: 'https://id.example' })).toEqual([expect.stringMatching(/^OIDC_AUDIENCE: required/)]);
    const config = loadConfig({ NODE_ENV: 'production', SENDER_URL: 'http://gateway.example', SENDER_TOKEN: 'gateway-token', OIDC_ISSUER: 'https://id.example', OIDC_AUDIENCE: 'herald', OIDC_ROLE_CLAIM: 'https://herald.example/role' });
    expect(config.oidc).toEqual({ issuer: 'https://id.example', audience: 'herald', roleClaim: 'https://herald.example/role', clockSkewS: 30, jwksCooldownMs: 30_000 });
  });

  it('should refuse a cost budget per minute below the cost of one operation', () => {
    expect(problemsOf({ GRAPHQL_MAX_COST: '1000', RATE_LIMIT_COST_PER_MINUTE: '999' })).toEqual([expect.stringMatching(/^RATE_LIMIT_COST_PER_MINUTE:/)]);
    expect(loadConfig({ GRAPHQL_MAX_COST: '1000', RATE_LIMIT_COST_PER_MINUTE: '0' }).limits.costPerMinute).toBe(0);
  });

  it("should take the built-in simulator's receipt settings, and refuse a delay or share that is not one", () => {
    expect(loadConfig({ SENDER_SIMULATOR_MODE: 'flaky', SENDER_SIMULATOR_FLAKY_CYCLE_MS: '5000' }).simulatorMode).toEqual({ mode: 'flaky', flakyCycleMs: 5_000 });
    expect(problemsOf({ SENDER_SIMULATOR_MODE: 'chaos' })).toEqual([expect.stringMatching(/^SENDER_SIMULATOR_MODE:/)]);
    expect(loadConfig({}).simulatorReceipts).toEqual({ receipts: true, deliveredRate: 0.9, receiptDelayMs: [200, 2_000] });
    expect(loadConfig({ SENDER_SIMULATOR_RECEIPTS: 'false', SENDER_SIMULATOR_DELIVERED_RATE: '0.5', SENDER_SIMULATOR_RECEIPT_DELAY_MS: '0' }).simulatorReceipts).toEqual({
      receipts: false,
      deliveredRate: 0.5,
      receiptDelayMs: 0,
    });
    expect(loadConfig({ SENDER_SIMULATOR_RECEIPT_DELAY_MS: '10-20' }).simulatorReceipts.receiptDelayMs).toEqual([10, 20]);
    expect(problemsOf({ SENDER_SIMULATOR_RECEIPT_DELAY_MS: '20-10', SENDER_SIMULATOR_DELIVERED_RATE: '1.5' })).toEqual([
      expect.stringMatching(/^SENDER_SIMULATOR_DELIVERED_RATE:/),
      expect.stringMatching(/^SENDER_SIMULATOR_RECEIPT_DELAY_MS: must be ms, or min-max ms/),
    ]);
  });

  it('should require SENDER_TOKEN with SENDER_URL', () => {
    expect(problemsOf({ SENDER_URL: 'http://gateway.example' })).toEqual([expect.stringMatching(/^SENDER_TOKEN:/)]);
  });

  it('should give the default provider SENDER_RECEIPT_TOKEN as its receiptToken, at least 16 characters', async () => {
    expect(problemsOf({ SENDER_RECEIPT_TOKEN: 'short' })).toEqual([expect.stringMatching(/^SENDER_RECEIPT_TOKEN:/)]);
    expect(problemsOf({ RECEIPT_PARK_MS: '10' })).toEqual([expect.stringMatching(/^RECEIPT_PARK_MS:/)]);
    const config = loadConfig({ SENDER_URL: 'http://gateway.example', SENDER_TOKEN: 'gateway-token', SENDER_RECEIPT_TOKEN: 'receipt-token-0123456789', RECEIPT_PARK_MS: '5000' });
    expect(config.receiptParkMs).toBe(5_000);
    const { providers } = await providersOf(config, createLogger('silent'));
    expect(providers.providers[0]).toMatchObject({ name: 'default', receiptToken: 'receipt-token-0123456789' });
    const without = await providersOf(loadConfig({ SENDER_URL: 'http://gateway.example', SENDER_TOKEN: 'gateway-token' }), createLogger('silent'));
    expect(without.providers.providers[0]).not.toHaveProperty('receiptToken');
  });

  it('should refuse production with no provider unless the simulator is asked for, and never both a file and SENDER_URL', () => {
    const production = { NODE_ENV: 'production', API_TOKENS: 'admin:aaaaaaaaaaaaaaaa1' };
    expect(problemsOf(production)).toEqual([expect.stringMatching(/^PROVIDERS_FILE or SENDER_URL: required when NODE_ENV=production/)]);
    expect(loadConfig({ ...production, SENDER_SIMULATOR: 'true' }).simulator).toBe(true);
    expect(loadConfig({ ...production, SENDER_URL: 'http://gateway.example', SENDER_TOKEN: 'gateway-token' }).simulator).toBe(false);
    // Outside production the simulator is the default, so that `npm start` just works.
    expect(loadConfig({}).simulator).toBe(true);
    expect(problemsOf({ PROVIDERS_FILE: 'examples/providers.json', SENDER_URL: 'http://gateway.example', SENDER_TOKEN: 'gateway-token' })).toEqual([
      expect.stringMatching(/^SENDER_URL: set PROVIDERS_FILE or SENDER_URL, not both/),
    ]);
    expect(problemsOf({ PROVIDERS_FILE: '/nonexistent/providers.json' })).toEqual([expect.stringMatching(/^PROVIDERS_FILE: PROVIDERS_FILE \/nonexistent\/providers.json cannot be read \(ENOENT\)/)]);
  });
});

describe('operability settings', () => {
  it('should refuse a REPORT_CRON that is not cron, a REPORT_TIMEZONE that is not a zone, and a short METRICS_TOKEN', () => {
    expect(problemsOf({ REPORT_CRON: 'every morning' })).toEqual([expect.stringMatching(/^REPORT_CRON: not a cron expression/)]);
    expect(problemsOf({ REPORT_TIMEZONE: 'Mars/Olympus' })).toEqual([expect.stringMatching(/^REPORT_TIMEZONE:/)]);
    expect(problemsOf({ METRICS_TOKEN: 'short' })).toEqual([expect.stringMatching(/^METRICS_TOKEN:/)]);
    expect(problemsOf({ SMTP_URL: 'http://mail.example' })).toEqual([expect.stringMatching(/^SMTP_URL:/)]);
    expect(loadConfig({ REPORT_CRON: '30 7 * * 1-5', REPORT_TIMEZONE: 'Europe/Moscow', METRICS_ENABLED: 'false' })).toMatchObject({
      report: { cron: '30 7 * * 1-5', timezone: 'Europe/Moscow' },
      metrics: { enabled: false },
    });
  });

  it('should read the retention in days (decimals too), and refuse a PARTITION_CRON that is not cron and a retention that is not positive', () => {
    expect(loadConfig({ MESSAGE_RETENTION_DAYS: '0.5', ARCHIVE_DIR: '/var/lib/herald/archive', MESSAGE_PARTITION_MS: '3600000' }).partitions).toEqual({
      periodMs: 3_600_000,
      mailings: 10_000,
      retentionMs: 43_200_000,
      archiveDir: '/var/lib/herald/archive',
      cron: '*/10 * * * *',
    });
    expect(problemsOf({ PARTITION_CRON: 'hourly' })).toEqual([expect.stringMatching(/^PARTITION_CRON: not a cron expression/)]);
    expect(problemsOf({ MESSAGE_RETENTION_DAYS: '0' })).toEqual([expect.stringMatching(/^MESSAGE_RETENTION_DAYS:/)]);
    expect(problemsOf({ MESSAGE_PARTITION_MAILINGS: '0' })).toEqual([expect.stringMatching(/^MESSAGE_PARTITION_MAILINGS:/)]);
  });

  it('should require SMTP_URL for a daily report in production', () => {
    const env = { NODE_ENV: 'production', API_TOKENS: 'admin:aaaaaaaaaaaaaaaa1', REPORT_TO: 'ops@example.com', SENDER_URL: 'http://gateway.example', SENDER_TOKEN: 'gateway-token' };
    expect(problemsOf(env)).toEqual([expect.stringMatching(/^SMTP_URL: required/)]);
    expect(loadConfig({ ...env, SMTP_URL: 'smtp://mail.example:587' }).report.smtpUrl).toBe('smtp://mail.example:587');
  });
});
