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

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
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
});

export type Config = {
  nodeEnv: 'development' | 'production' | 'test';
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
  if (e.NODE_ENV === 'production' && !e.API_TOKENS) {
    problems.push('API_TOKENS: required when NODE_ENV=production (comma-separated role:token)');
  }
  if (e.SENDER_URL && !e.SENDER_TOKEN) problems.push('SENDER_TOKEN: required when SENDER_URL is set');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    nodeEnv: e.NODE_ENV,
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
  };
}
