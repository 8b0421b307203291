import { GraphQLError } from 'graphql';

/**
 * Every error a client may see carries one of these codes in `extensions.code`. Anything
 * else is an internal error: logged with its cause, answered as INTERNAL_SERVER_ERROR with
 * no internals (see graphql/server.ts).
 */
export const PUBLIC_ERROR_CODES = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  // Apollo's own codes for requests that never reached a resolver:
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** Bad input: `field` names the argument or input field at fault (e.g. `phone`, `first`). */
export class UserInputError extends GraphQLError {
  constructor(field: string, message: string) {
    super(`${field}: ${message}`, { extensions: { code: 'BAD_USER_INPUT', field } });
  }
}

export class NotFoundError extends GraphQLError {
  constructor(entity: string, id: string | number) {
    super(`${entity} ${id} not found`, { extensions: { code: 'NOT_FOUND' } });
  }
}

export class ConflictError extends GraphQLError {
  constructor(message: string, field?: string) {
    super(message, { extensions: { code: 'CONFLICT', ...(field ? { field } : {}) } });
  }
}

export class UnauthenticatedError extends GraphQLError {
  constructor(message = 'a valid "Authorization: Bearer <token>" is required') {
    super(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
}

export class ForbiddenError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
  }
}
