/** The PostgreSQL error under a driver or drizzle wrapper, if there is one. */
function pgError(error: unknown): { code?: string; constraint_name?: string } | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 3; depth++) {
    if (typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
      return e as { code?: string; constraint_name?: string };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pg = pgError(error);
  return pg?.code === '23505' && pg.constraint_name === constraint;
}

// postgres.js's own codes for a connection that failed, closed or timed out; Node's for a
// socket that could not reach the server; pg's (pg-boss) messages for the same.
const DRIVER_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const PG_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error)/;
// SQLSTATE classes and codes that mean "not now" rather than "wrong": 08 connection
// exceptions, 57P01–57P03 (shutting down, crashed, starting up), 57014 (a statement timeout
// or cancel), 53300 (too many connections).
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|57014|53300)$/;

/**
 * Whether an error means the database did not answer (down, unreachable, restarting, too
 * slow), as opposed to refusing a statement: the caller sees SERVICE_UNAVAILABLE and may try
 * again; nothing about its input was wrong.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (DRIVER_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
    if (typeof message === 'string' && PG_MESSAGES.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A short reason for logs and /readyz: the code and first line of the innermost error, no SQL or parameters. */
export function describeDatabaseError(error: unknown): string {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e && typeof e === 'object' && (e as { cause?: unknown }).cause; depth++) e = (e as { cause: unknown }).cause;
  const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
  const first = typeof message === 'string' ? message.split('\n')[0].slice(0, 200) : String(e);
  const text = first.startsWith('Failed query') ? 'a query failed' : first; // drizzle's wrapper names the SQL
  return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
}

/**
 * Whether PostgreSQL refused a statement for the values it carried (a data exception, class
 * 22, or a NOT NULL or CHECK constraint): another statement without the offending row
 * would succeed. Its message names the problem, never the value (unlike `detail`).
 */
export function rejectedData(error: unknown): { code: string; message: string } | undefined {
  const pg = pgError(error) as { code?: string; message?: string } | undefined;
  if (!pg?.code || !(pg.code.startsWith('22') || pg.code === '23502' || pg.code === '23514' || pg.code === '54000')) return undefined;
  return { code: pg.code, message: String(pg.message ?? 'refused by the database').split('\n')[0].slice(0, 200) };
}
