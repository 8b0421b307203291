/**
 * The errors a client may see, each with its code in `extensions.code` (and `field`, naming
 * the argument or input field at fault). Plain errors, thrown by services and stores: the
 * GraphQL transport (graphql-js keeps an error's `extensions`) passes them on as they are,
 * and masks anything else as INTERNAL_SERVER_ERROR, logging its cause (graphql/mask-error.ts).
 */
export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'SERVICE_UNAVAILABLE';

export class CodedError extends Error {
  readonly extensions: { code: ErrorCode; field?: string; http?: { status: number } };

  constructor(code: ErrorCode, message: string, extra: { field?: string; httpStatus?: number } = {}) {
    super(message);
    this.name = 'CodedError';
    this.extensions = {
      code,
      ...(extra.field ? { field: extra.field } : {}),
      ...(extra.httpStatus ? { http: { status: extra.httpStatus } } : {}),
    };
  }
}

/** Bad input: `field` names the argument or input field at fault (e.g. `phone`, `first`). */
export class UserInputError extends CodedError {
  constructor(field: string, message: string) {
    super('BAD_USER_INPUT', `${field}: ${message}`, { field });
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
 * Herald cannot answer now (the database is away or too slow): nothing was changed that the
 * caller must know of, and the same request may be sent again later.
 */
export class ServiceUnavailableError extends CodedError {
  constructor(message: string) {
    super('SERVICE_UNAVAILABLE', message, { httpStatus: 503 });
  }
}
