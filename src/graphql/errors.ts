import { GraphQLError } from 'graphql';
import { ERROR_CODES, type CodedError } from '../common/errors';

/**
 * The codes a client may see in `extensions.code`: Herald's own (common/errors.ts, named
 * there once) and Apollo's for requests that never reached a resolver. Anything else is an
 * internal error: logged with its cause, answered as INTERNAL_SERVER_ERROR with no internals
 * (mask-error.ts).
 */
export const PUBLIC_ERROR_CODES = new Set<string>([
  ...ERROR_CODES,
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/**
 * A coded error as the transports carry it where no resolver wraps it (context creation,
 * connection set-up): Apollo would otherwise prefix its message.
 */
export function toGraphQLError(error: CodedError): GraphQLError {
  return new GraphQLError(error.message, { extensions: error.extensions, originalError: error });
}
