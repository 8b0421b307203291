import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { describeDatabaseError, isDatabaseUnavailable } from '../db/errors';
import { logRepeated, type Logger } from '../logger';
import { PUBLIC_ERROR_CODES } from './errors';

/**
 * What a client may see of an error. Coded errors pass as they are (minus transport
 * details); an error that means the database did not answer becomes SERVICE_UNAVAILABLE
 * (try again later); anything else is logged here with its cause and answered as a bare
 * INTERNAL_SERVER_ERROR, so no SQL, stack or message from inside reaches a client.
 */
export function maskError(log: Logger, formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && PUBLIC_ERROR_CODES.has(code)) {
    const { http: _http, stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  const cause = unwrapResolverError(error);
  if (isDatabaseUnavailable(cause)) {
    logRepeated(log, 'warn', { reason: describeDatabaseError(cause), path: formatted.path }, 'a GraphQL operation found the database unavailable');
    return {
      message: 'the database is not available; try again shortly',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    };
  }
  log.error({ err: cause, path: formatted.path }, 'internal error in a GraphQL operation');
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
