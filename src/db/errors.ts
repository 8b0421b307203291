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
