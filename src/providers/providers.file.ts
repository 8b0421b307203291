import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The providers file (PROVIDERS_FILE): the SMS providers Herald sends through and the routes
 * that choose among them by a client's operator code. JSON; `${NAME}` inside any string is
 * replaced from the environment, so that secrets stay out of the file. Read once at start-up:
 * every problem makes it refuse to start, with one line that names the place in the file and
 * never a value (a value may be a secret).
 *
 * A route is chosen by the first whose `operatorCodes` holds the client's code (a route
 * without `operatorCodes` matches every client); its `providers` are tried in order.
 */

const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be 1–32 characters of a-z, 0-9, _ and -, starting with a letter or digit');
const positive = z.number().int().min(1);
/** parts per second for all of Herald's processes together; 0 or absent: no limit */
const partsPerSecond = z.number().min(0).default(0);

const httpProvider = z.strictObject({
  name,
  type: z.literal('http'),
  url: z.url({ protocol: /^https?$/ }),
  token: z.string().min(1),
  /** requests in flight at most, per process */
  concurrency: positive.max(10_000).default(50),
  partsPerSecond,
  /** a request not answered this long is a timeout (ms) */
  timeoutMs: positive.min(100).optional(),
  /** the bearer token the provider presents when it posts receipts and replies to Herald */
  receiptToken: z.string().min(16).optional(),
});

const smppProvider = z.strictObject({
  name,
  type: z.literal('smpp'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(2775),
  /** TLS to the SMSC (SMPP over TLS, often port 3550) */
  tls: z.boolean().default(false),
  systemId: z.string().min(1).max(15),
  password: z.string().max(8),
  systemType: z.string().max(12).default(''),
  sourceAddr: z.string().min(1).max(20),
  /** bind_transceiver sessions held open */
  binds: positive.max(32).default(1),
  /** unacknowledged submit_sm per bind at most */
  window: positive.max(1_000).default(10),
  /** submits in flight at most, per process (all binds together); at most binds × window */
  concurrency: positive.max(10_000).optional(),
  partsPerSecond,
  /** a submit_sm not answered this long is a timeout (ms) */
  timeoutMs: positive.min(100).optional(),
  /** enquire_link every this long on an idle bind (ms) */
  enquireLinkMs: positive.min(1_000).default(30_000),
  /** ask for a delivery receipt of every message (registered_delivery 1); false: 0, none asked */
  receipts: z.boolean().default(true),
  /** the bearer token the provider presents when it posts replies (or receipts) to Herald over HTTP */
  receiptToken: z.string().min(16).optional(),
});

const provider = z.discriminatedUnion('type', [httpProvider, smppProvider]);

const route = z.strictObject({
  operatorCodes: z.array(z.string().regex(/^\d{3}$/, 'must be exactly 3 digits')).min(1).optional(),
  providers: z.array(z.string()).min(1),
});

const file = z.strictObject({
  providers: z.array(provider).min(1),
  routes: z.array(route).min(1),
});

export type ProviderConfig = z.infer<typeof provider>;
export type HttpProviderConfig = z.infer<typeof httpProvider>;
export type SmppProviderConfig = z.infer<typeof smppProvider>;
export type RouteConfig = { operatorCodes: readonly string[] | null; providers: readonly string[] };
export type ProvidersConfig = { providers: ProviderConfig[]; routes: RouteConfig[] };

/** A providers file Herald cannot use: the message is one line, naming where and what, never a value. */
export class ProvidersFileError extends Error {}

/** Reads and checks the providers file at `path`, with `${NAME}` taken from `env`. */
export function loadProvidersFile(path: string, env: NodeJS.ProcessEnv = process.env): ProvidersConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProvidersFileError(`PROVIDERS_FILE ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseProvidersFile(text, env, path);
}

export function parseProvidersFile(text: string, env: NodeJS.ProcessEnv, source = 'the providers file'): ProvidersConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ProvidersFileError(`${source} is not JSON: ${(err as Error).message}`);
  }
  const substituted = substitute(raw, env, [], source);
  const parsed = file.safeParse(substituted);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = pathOf(issue.path);
    const what = issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
    throw new ProvidersFileError(`${source}: ${where ? `${where}: ` : ''}${what}`);
  }
  const { providers, routes } = parsed.data;
  const names = new Set<string>();
  for (const [i, p] of providers.entries()) {
    if (names.has(p.name)) throw new ProvidersFileError(`${source}: providers[${i}].name: a second provider named "${p.name}"`);
    names.add(p.name);
    if (p.type === 'smpp' && p.concurrency !== undefined && p.concurrency > p.binds * p.window) {
      throw new ProvidersFileError(`${source}: providers[${i}].concurrency: at most binds × window (${p.binds * p.window}) submits can be unacknowledged`);
    }
  }
  for (const [i, r] of routes.entries()) {
    for (const [j, n] of r.providers.entries()) {
      if (!names.has(n)) throw new ProvidersFileError(`${source}: routes[${i}].providers[${j}]: no provider named "${n}"`);
    }
    if (new Set(r.providers).size !== r.providers.length) throw new ProvidersFileError(`${source}: routes[${i}].providers: a provider is named twice`);
  }
  // Every client needs a route: one left without would have nobody to send its messages.
  if (!routes.some((r) => r.operatorCodes === undefined)) {
    throw new ProvidersFileError(`${source}: routes: no route without operatorCodes, so clients of other operator codes would have no provider (add one last)`);
  }
  return { providers, routes: routes.map((r) => ({ operatorCodes: r.operatorCodes ?? null, providers: r.providers })) };
}

/** The providers to try for a client of `operatorCode`, in order: the first route that holds the code, or the first without codes. */
export function providersFor(routes: readonly RouteConfig[], operatorCode: string): readonly string[] {
  for (const r of routes) if (r.operatorCodes === null || r.operatorCodes.includes(operatorCode)) return r.providers;
  return [];
}

/** `${NAME}` in every string, from the environment; a name that is not set is the file's problem. */
function substitute(value: unknown, env: NodeJS.ProcessEnv, path: (string | number)[], source: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => {
      const found = env[variable];
      if (found === undefined || found === '') throw new ProvidersFileError(`${source}: ${pathOf(path)}: \${${variable}} is not set in the environment`);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, env, [...path, i], source));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, env, [...path, k], source)]));
  }
  return value;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}
