import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Principal } from '../auth/tokens';
import type { Context } from '../api/context';
import type { OperationGate, OperationRecord } from './gate';

export type HttpLimits = {
  /** the largest body an authenticated request may send (an unauthenticated one's is never read) */
  maxBodyBytes: number;
  /** operations one batched (array) request may hold; 0: arrays are refused */
  batching: number;
};

// What a cross-origin page may send, and how long its browser may remember the answer.
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name';
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * GraphQL over HTTP (Apollo) on `/graphql`, through the gate: origin (CORS), then the token
 * from the header before any of the body is read, then the body (up to its limit), the
 * limits and the cost budget (before Apollo parses anything), access and the log line (a
 * plugin), masking (formatError). `drainOthers` runs when Apollo stops, after HTTP requests
 * have drained.
 */
export async function startHttpTransport(
  server: Server,
  schema: GraphQLSchema,
  gate: OperationGate,
  limits: HttpLimits,
  contextFor: (principal: Principal) => Context,
  drainOthers: () => Promise<void>,
): Promise<{ cors: RequestHandler; handler: RequestHandler[]; stop: () => Promise<void> }> {
  const apollo = new ApolloServer<Context>({
    schema,
    introspection: gate.introspection,
    hideSchemaDetailsFromClientErrors: !gate.introspection,
    allowBatchedHttpRequests: limits.batching > 0,
    // A persisted query would run a document that limits.ts never saw with new variables.
    persistedQueries: false,
    includeStacktraceInErrorResponses: false,
    // On by default, and on purpose: a request a page could send without a CORS preflight
    // (a form post, a GET without a custom header) is refused.
    csrfPrevention: true,
    // Herald's main.ts owns SIGTERM/SIGINT and shuts down in order.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => gate.mask(formatted, error),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      { serverWillStart: async () => ({ drainServer: drainOthers }) },
      ApolloServerPluginLandingPageDisabled(),
      // Herald gives no cache hints: Apollo's cache-control plugin would wrap every field's
      // resolver to collect none, and answer `no-store` each time. checkLimits sets that header.
      ApolloServerPluginCacheControlDisabled(),
      gatePlugin(gate),
    ],
  });
  await apollo.start();
  return {
    cors: cors(gate),
    handler: [
      authenticate(gate),
      express.json({ limit: limits.maxBodyBytes }),
      checkLimits(gate, limits),
      expressMiddleware(apollo, {
        context: async ({ res }) => contextFor(principalOf(res)),
      }),
    ],
    stop: () => apollo.stop(),
  };
}

/**
 * CORS: a listed origin gets `Access-Control-Allow-Origin` and its preflight answered;
 * another foreign origin is refused with 403 and no CORS header, so its page reads nothing.
 */
function cors(gate: OperationGate) {
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    res.vary('Origin');
    if (!gate.admitOrigin('http', origin, req.headers.host)) {
      return void res.status(403).json({ errors: [{ message: 'this origin may not call Herald (see CORS_ORIGINS)', extensions: { code: 'FORBIDDEN' } }] });
    }
    if (gate.origins.isListed(origin)) {
      res.set('Access-Control-Allow-Origin', origin);
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        res.set({
          'Access-Control-Allow-Methods': ALLOWED_METHODS,
          'Access-Control-Allow-Headers': ALLOWED_HEADERS,
          'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_S),
        });
        return void res.status(204).end();
      }
    }
    next();
  };
}

const principalOf = (res: Response): Principal => res.locals.principal as Principal;

/** Answers like Apollo does (status, then `{ errors }`), with the gate's masking and log line. */
function refuse(gate: OperationGate, res: Response, record: OperationRecord | undefined, error: GraphQLError, operationName?: unknown): void {
  const status = (error.extensions.http as { status?: number } | undefined)?.status ?? 400;
  const retryAfter = error.extensions.retryAfter;
  if (typeof retryAfter === 'number') res.set('Retry-After', String(retryAfter));
  const formatted = gate.mask(error.toJSON(), error);
  if (record) {
    record.name = typeof operationName === 'string' ? operationName : null;
    record.noteErrors([formatted]);
    record.finish();
  }
  res.status(status).json({ errors: [formatted] });
}

/**
 * The token, from the header alone: a request without a valid one is answered before any of
 * its body is read (a 10 MB body of nested JSON costs seconds to parse), and its connection
 * is closed when it announced a body, so that not even the bytes are taken in.
 */
function authenticate(gate: OperationGate): RequestHandler {
  return async (req, res, next) => {
    try {
      res.locals.principal = await gate.authenticate('http', req.headers.authorization, req.socket.remoteAddress);
      next();
    } catch (error) {
      if (!(error instanceof GraphQLError)) return next(error);
      if (req.headers['content-length'] !== '0' && (req.headers['content-length'] || req.headers['transfer-encoding'])) res.set('Connection', 'close');
      refuse(gate, res, undefined, error);
    }
  };
}

/**
 * The limits and the cost budget for each operation of the request, before Apollo parses
 * anything: a refused operation answers 400 (GRAPHQL_VALIDATION_FAILED, COST_LIMIT_EXCEEDED)
 * or 429 (RATE_LIMITED, with Retry-After). A document that does not parse goes on to Apollo,
 * which answers GRAPHQL_PARSE_FAILED as it always has.
 */
function checkLimits(gate: OperationGate, limits: HttpLimits): RequestHandler {
  return async (req, res, next) => {
    // What Apollo's cache-control plugin answered with no hints: an answer for one principal is no one else's.
    res.set('Cache-Control', 'no-store');
    const principal = principalOf(res);
    // Logged only if the request is refused here (Apollo's plugin logs the others), from now:
    // its durationMs is what the refusal cost.
    const record = gate.begin('http', principal);
    const body: unknown = req.method === 'GET' ? fromQueryString(req.query) : req.body;
    const operations = Array.isArray(body) ? body : [body];
    if (Array.isArray(body) && body.length > limits.batching) {
      const message =
        limits.batching === 0
          ? 'batched requests (a JSON array of operations) are turned off on this server (GRAPHQL_BATCHING)'
          : `a batched request may hold at most ${limits.batching} operations (GRAPHQL_BATCHING)`;
      return refuse(gate, res, record, new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } }));
    }
    let cost = 0;
    for (const operation of operations) {
      if (!operation || typeof operation !== 'object' || typeof (operation as { query?: unknown }).query !== 'string') continue;
      const { query, variables, operationName } = operation as { query: string; variables?: unknown; operationName?: unknown };
      const checked = gate.check(query, variables, typeof operationName === 'string' ? operationName : undefined);
      if (checked instanceof GraphQLError) return refuse(gate, res, record, checked, operationName);
      if (checked !== 'unparsed') cost += checked.cost;
    }
    try {
      if (cost > 0) await gate.charge(principal, cost);
    } catch (error) {
      if (!(error instanceof GraphQLError)) return next(error);
      return refuse(gate, res, record, error, (operations[0] as { operationName?: unknown } | undefined)?.operationName);
    }
    next();
  };
}

/** A GET request's operation, as Apollo reads it from the query string. */
function fromQueryString(query: Request['query']): unknown {
  if (typeof query.query !== 'string') return undefined;
  let variables: unknown;
  try {
    variables = typeof query.variables === 'string' ? JSON.parse(query.variables) : undefined;
  } catch {
    variables = undefined; // Apollo answers that itself
  }
  return { query: query.query, variables, operationName: query.operationName };
}

/** Transport and access once the operation's type is known; one log line when the response goes. */
function gatePlugin(gate: OperationGate): ApolloServerPlugin<Context> {
  return {
    requestDidStart: async ({ contextValue }) => {
      const record = gate.begin('http', contextValue.principal);
      return {
        didResolveOperation: async ({ operation }) => {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('subscriptions run over graphql-ws on this same /graphql (ws:// or wss://), not over HTTP', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          gate.authorize(contextValue.principal, operation?.operation);
        },
        willSendResponse: async ({ operationName, operation, errors }) => {
          record.name = operationName ?? null;
          record.type = operation?.operation ?? null;
          record.noteErrors(errors);
          record.finish();
        },
      };
    },
  };
}
