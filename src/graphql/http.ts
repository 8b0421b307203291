import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Principal } from '../auth/tokens';
import type { Context } from './context';
import type { OperationGate } from './gate';

// What a cross-origin page may send, and how long its browser may remember the answer.
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name';
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * GraphQL over HTTP (Apollo) on `/graphql`, through the gate: origin (CORS), token (context),
 * depth (validationRules), access and the log line (a plugin), masking (formatError).
 * `drainOthers` runs when Apollo stops, after HTTP requests have drained.
 */
export async function startHttpTransport(
  server: Server,
  schema: GraphQLSchema,
  gate: OperationGate,
  contextFor: (principal: Principal) => Context,
  drainOthers: () => Promise<void>,
): Promise<{ cors: RequestHandler; handler: RequestHandler[]; stop: () => Promise<void> }> {
  const apollo = new ApolloServer<Context>({
    schema,
    validationRules: gate.validationRules,
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
      gatePlugin(gate),
    ],
  });
  await apollo.start();
  return {
    cors: cors(gate),
    handler: [
      express.json({ limit: '16mb' }),
      expressMiddleware(apollo, {
        context: async ({ req }) => contextFor(gate.authenticate('http', req.headers.authorization)),
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
