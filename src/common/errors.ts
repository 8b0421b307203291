/**
 * The errors a client may see, each with its code in `extensions.code` (and `field`, naming
 * the argument or input field at fault). Plain errors, thrown by services and stores: the
 * GraphQL transport (graphql-js keeps an error's `extensions`) passes them on as they are,
 * and masks anything else as INTERNAL_SERVER_ERROR, logging its cause (graphql/mask-error.ts).
 */
export const ERROR_CODES = [
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'GRAPHQL_VALIDATION_FAILED',
  'COST_LIMIT_EXCEEDED',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Figures a refusal names beside its code, e.g. `limit` and `estimate`, or `retryAfter`. */
type Details = Record<string, number | string>;

export class CodedError extends Error {
  readonly extensions: { code: ErrorCode; field?: string; http?: { status: number }; [detail: string]: unknown };

  constructor(code: ErrorCode, message: string, extra: { field?: string; httpStatus?: number; details?: Details } = {}) {
    super(message);
    this.name = 'CodedError';
    this.extensions = {
      ...extra.details,
      code,
      ...(extra.field ? { field: extra.field } : {}),
      ...(extra.httpStatus ? { http: { status: extra.httpStatus } } : {}),
    };
  }
}

/** One field's problem, as `extensions.fields` lists them: `message` without the field's name. */
export type FieldProblem = { field: string; message: string };

/**
 * Bad input: `field` names the argument or input field at fault (e.g. `phone`, `first`), and
 * the message is the first problem's; `fields` lists every problem found in the same input
 * (the first included), so that a form shows them all after one submit.
 */
export class UserInputError extends CodedError {
  constructor(field: string, message: string, more: readonly FieldProblem[] = []) {
    super('BAD_USER_INPUT', `${field}: ${message}`, { field });
    this.extensions.fields = [{ field, message }, ...more];
  }

  get problems(): FieldProblem[] {
    return this.extensions.fields as FieldProblem[];
  }
}

/**
 * Gathers the problems of one input across its checks, so that the answer names every field
 * at fault at once rather than the first: `check` runs one field's validation and keeps its
 * refusal (only a field's first problem: one message a field), `done` throws them together.
 */
export class InputProblems {
  private readonly found: FieldProblem[] = [];

  check<T>(validate: () => T): T | undefined {
    try {
      return validate();
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
      for (const p of error.problems) this.add(p.field, p.message);
      return undefined;
    }
  }

  /** check, for a validation that awaits (e.g. a webhook URL's host lookup). */
  async checkAsync<T>(validate: () => Promise<T>): Promise<T | undefined> {
    try {
      return await validate();
    } catch (error) {
      return this.check(() => {
        throw error;
      });
    }
  }

  add(field: string, message: string): void {
    if (!this.found.some((p) => p.field === field)) this.found.push({ field, message });
  }

  has(field: string): boolean {
    return this.found.some((p) => p.field === field);
  }

  /** Throws every problem found as one UserInputError (the first as `field` and message). */
  done(): void {
    if (this.found.length === 0) return;
    const [first, ...more] = this.found;
    throw new UserInputError(first.field, first.message, more);
  }
}

export class NotFoundError extends CodedError {
  constructor(entity: string, id: string | number) {
    super('NOT_FOUND', `${entity} ${id} not found`);
  }
}

export class ConflictError extends CodedError {
  constructor(message: string, field?: string) {
    super('CONFLICT', message, { field });
  }
}

export class UnauthenticatedError extends CodedError {
  constructor(message = 'a valid "Authorization: Bearer <token>" is required') {
    super('UNAUTHENTICATED', message, { httpStatus: 401 });
  }
}

export class ForbiddenError extends CodedError {
  constructor(message: string) {
    super('FORBIDDEN', message, { httpStatus: 403 });
  }
}

/**
 * An operation over one of the limits checked before it runs (document size, aliases, depth,
 * list lengths, introspection): `limit` and the operation's own figure as `actual`.
 */
export class LimitError extends CodedError {
  constructor(message: string, details: { limit: number; actual: number } | Record<string, never> = {}) {
    super('GRAPHQL_VALIDATION_FAILED', message, { httpStatus: 400, details });
  }
}

/** An operation whose estimated cost is over GRAPHQL_MAX_COST. */
export class CostLimitError extends CodedError {
  constructor(limit: number, estimate: number) {
    super('COST_LIMIT_EXCEEDED', `the operation's estimated cost ${estimate} is over the limit of ${limit}`, {
      httpStatus: 400,
      details: { limit, estimate },
    });
  }
}

/** Over a budget (cost per minute, failed sign-ins, subscriptions): `retryAfter` in seconds when waiting helps. */
export class RateLimitedError extends CodedError {
  constructor(message: string, details: { retryAfter?: number; limit?: number }) {
    super('RATE_LIMITED', message, { httpStatus: 429, details: Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined)) as Details });
  }
}

/**
 * Herald cannot answer now (the database is away or too slow): nothing was changed that the
 * caller must know of, and the same request may be sent again later.
 */
export class ServiceUnavailableError extends CodedError {
  constructor(message: string) {
    super('SERVICE_UNAVAILABLE', message, { httpStatus: 503 });
  }
}
