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
    return { ...formatted, extensions: code === 'BAD_USER_INPUT' && extensions.field === undefined ? { ...extensions, ...variableField(formatted.message) } : extensions };
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

// graphql-js's refusal of a variable's value: 'Variable "$input" got invalid value "x" at
// "input.startAt"; <why>'.
const INVALID_VARIABLE = /^Variable "\$(\w+)" got invalid value .*?(?: at "([^"]+)")?; (.*)$/s;

/**
 * The field a refused variable names, as Herald's own refusals name it (`startAt` of the
 * input, or the argument), so that a form shows a bad date next to its field too.
 */
function variableField(message: string): { field: string; fields: { field: string; message: string }[] } | Record<string, never> {
  const match = INVALID_VARIABLE.exec(message);
  if (!match) return {};
  const [, variable, path, why] = match;
  const field = path && path.startsWith(`${variable}.`) ? path.slice(variable.length + 1) : (path ?? variable);
  return { field, fields: [{ field, message: why }] };
}
