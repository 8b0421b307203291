import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export type LoggerOptions = {
  /** a repeated warning (logRepeated) is written at most once per kind per this interval */
  repeatIntervalMs?: number;
};

const REPEATS = Symbol('herald.repeats');

/**
 * One JSON logger for the process. Lines about a mailing, message or client carry
 * `mailingId`, `messageId` and `clientId` as fields (use `log.child({ mailingId })`),
 * so that grepping one id finds its whole story.
 */
export function createLogger(level: string, destination?: DestinationStream, opts: LoggerOptions = {}): Logger {
  const log = pino(
    {
      level,
      base: { service: 'herald' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Belt and braces: Herald never logs headers or tokens, but a future line that does
      // must not leak them. Named paths only: wildcard paths made pino walk every object of
      // every line, a cost on the line each message attempt writes.
      redact: {
        paths: ['authorization', 'headers.authorization', 'req.headers.authorization', 'token', 'senderToken', 'connectionParams', 'phone', 'phones'],
        censor: '[redacted]',
      },
      serializers: { err: serializeError, error: (e: unknown) => (e instanceof Error ? serializeError(e) : e) },
    },
    destination ?? standardOutput(),
  );
  // pino's child loggers inherit from their parent's object: they all share this one.
  (log as unknown as Record<symbol, Repeats>)[REPEATS] = new Repeats(opts.repeatIntervalMs ?? 10_000);
  return log;
}

/**
 * Standard output, asynchronously: lines written while a write is under way go out together
 * in the next one, instead of one write(2) per line (a line per message attempt adds up).
 * Buffered lines are flushed synchronously when the process exits; only a kill -9 can lose
 * the last few milliseconds of them. In sonic-boom's buffer mode, each line handed over as
 * bytes: in its string mode every line measured the UTF-8 length of the whole chunk it joins
 * (up to 16 KB): 4.8 µs a line against 2.9, side by side over 300,000 lines, and 3% of a
 * worker's CPU at 10,000 messages a second.
 */
function standardOutput(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, contentMode: 'buffer' });
  const write = stream.write;
  // pino hands over strings; the stream stays a SonicBoom, so pino still flushes it at exit.
  stream.write = (line: string) => (write as (data: string | Buffer) => boolean).call(stream, Buffer.from(line));
  return stream;
}

// Fields of a PostgreSQL error that name what went wrong, never the data: `detail` ("Key
// (phone)=(7916…) already exists"), `where`, `query`, `parameters` and drizzle's `params`
// are left out, whatever the error.
const SAFE_ERROR_FIELDS = ['code', 'severity', 'routine', 'constraint_name', 'table_name', 'column_name', 'schema_name', 'errno', 'syscall'] as const;
const PHONE_LIKE = /\+?\b\d{10,15}\b/g;

type SerializedError = { type: string; message: string; stack?: string; cause?: SerializedError } & Record<string, unknown>;

/**
 * Errors as log lines carry them: type, message, safe fields, stack and cause, and nothing
 * of the statement that failed. drizzle's wrapper puts the SQL and every parameter in its
 * message (a failed import of 10,000 clients was a 2.8 MB line of phone numbers): its
 * message is replaced; long digit runs (phones) in any message are masked.
 */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error).slice(0, 500).replace(PHONE_LIKE, '[number]') };
  const e = error as Error & Record<string, unknown>;
  const failedQuery = e.message.startsWith('Failed query:');
  const out: SerializedError = {
    type: e.constructor?.name ?? 'Error',
    message: failedQuery ? 'Failed query (its SQL and parameters are not logged)' : e.message.slice(0, 1_000).replace(PHONE_LIKE, '[number]'),
  };
  for (const field of SAFE_ERROR_FIELDS) if (e[field] !== undefined) out[field] = e[field];
  if (!failedQuery && e.stack) out.stack = e.stack.split('\n').slice(0, 15).join('\n').replace(PHONE_LIKE, '[number]');
  if (e.cause !== undefined && depth < 3) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

type Level = 'info' | 'warn' | 'error';

/**
 * Writes a line that may repeat many times a second (a slow subscriber, a database that is
 * away, a refused request) at most once per kind per interval: the first at once, and at the
 * end of the interval, if more came, one more line with `suppressed`, the count left out.
 * `kind` defaults to the message.
 */
export function logRepeated(log: Logger, level: Level, fields: Record<string, unknown>, msg: string, kind: string = msg): void {
  const repeats = (log as unknown as Record<symbol, Repeats | undefined>)[REPEATS];
  if (!repeats) return void log[level](fields, msg);
  repeats.note(log, level, fields, msg, kind);
}

class Repeats {
  private readonly kinds = new Map<string, { until: number; suppressed: number; last: () => void; timer?: NodeJS.Timeout }>();

  constructor(private readonly intervalMs: number) {}

  note(log: Logger, level: Level, fields: Record<string, unknown>, msg: string, kind: string): void {
    const now = Date.now();
    const entry = this.kinds.get(kind);
    if (!entry) {
      log[level](fields, msg);
      this.kinds.set(kind, { until: now + this.intervalMs, suppressed: 0, last: () => {} });
      return;
    }
    if (now >= entry.until && entry.suppressed === 0) {
      log[level](fields, msg);
      entry.until = now + this.intervalMs;
      return;
    }
    entry.suppressed++;
    entry.last = () => log[level]({ ...fields, suppressed: entry.suppressed, intervalMs: this.intervalMs }, msg);
    entry.timer ??= setTimeout(() => this.flush(kind), Math.max(0, entry.until - now)).unref();
  }

  private flush(kind: string): void {
    const entry = this.kinds.get(kind);
    if (!entry) return;
    entry.timer = undefined;
    if (entry.suppressed > 0) entry.last();
    entry.suppressed = 0;
    entry.until = Date.now() + this.intervalMs;
    if (this.kinds.size > 1_000) this.kinds.clear(); // kinds are a handful of fixed names; never grow without bound
  }
}
