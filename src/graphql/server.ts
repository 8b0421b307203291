import { createServer, type Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import {
  getOperationAST,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type ExecutionArgs,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { assertMayRun } from '../auth/access';
import type { Principal, TokenRegistry } from '../auth/tokens';
import type { Db } from '../db/connection';
import type { MailingTimers } from '../mailings/mailing.timers';
import type { LiveUpdates } from '../events/live-updates';
import { healthRoutes, type ReadinessCheck } from '../health/health.routes';
import type { Logger } from '../logger';
import { createLoaders, type Context } from './context';
import { depthLimit } from './depth-limit';
import { UnauthenticatedError } from './errors';
import { graphiqlRoutes } from './graphiql';
import { maskError } from './mask-error';

export type GraphqlOptions = {
  schema: GraphQLSchema;
  db: Db;
  tokens: TokenRegistry;
  maxDepth: number;
  timers: MailingTimers;
  live: LiveUpdates;
};

export type HttpServerOptions = {
  log: Logger;
  readiness: Record<string, ReadinessCheck>;
  /** absent on a worker-only process, which serves /healthz and /readyz alone */
  graphql?: GraphqlOptions;
};

export type HttpServer = { server: Server; stop: () => Promise<void> };

type WsExtra = {
  principal?: Principal;
  operations?: Map<string, { name: string | null; type: string | null; started: number }>;
};

/**
 * One HTTP server on one port: health endpoints and, on an api process, GraphiQL and GraphQL
 * over HTTP (Apollo) and over websocket (graphql-ws) at /graphql.
 */
export async function createHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const { log } = opts;
  const app = express();
  app.disable('x-powered-by');
  const server = createServer(app);
  app.use(healthRoutes(opts.readiness));
  const stopGraphql = opts.graphql ? await mountGraphql(app, server, opts.graphql, log) : undefined;
  app.use(errorHandler(log));
  const stop = async () => {
    if (stopGraphql) return stopGraphql();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  };
  return { server, stop };
}

/**
 * Both transports authenticate the same tokens and apply the same access, depth and
 * error-masking rules. Returns the function that drains and stops them.
 */
async function mountGraphql(app: Express, server: Server, opts: GraphqlOptions, log: Logger): Promise<() => Promise<void>> {
  const { schema, db, tokens, timers, live } = opts;
  const validationRules = [depthLimit(opts.maxDepth)];
  const contextFor = (principal: Principal): Context => ({ principal, db, log, timers, live, loaders: createLoaders(db) });

  const wsServer = new WebSocketServer({ server, path: '/graphql' });
  // One log line per websocket operation, as for HTTP: when it completes or fails.
  const logWsOperation = (extra: WsExtra, id: string, errorCodes: string[]) => {
    const op = extra.operations?.get(id);
    if (!op) return;
    extra.operations!.delete(id);
    log.info(
      {
        operationName: op.name,
        operationType: op.type,
        transport: 'websocket',
        role: extra.principal?.role,
        durationMs: Math.round((performance.now() - op.started) * 10) / 10,
        outcome: errorCodes.length ? 'error' : 'ok',
        ...(errorCodes.length ? { errorCodes: [...new Set(errorCodes)] } : {}),
      },
      'graphql operation',
    );
  };
  const wsCleanup = useServer<Record<string, unknown>, WsExtra>(
    {
      schema,
      onConnect: (ctx) => {
        const principal = tokens.authenticate(ctx.connectionParams?.authorization);
        if (!principal) {
          log.warn({ transport: 'websocket' }, 'unauthenticated connection refused');
          ctx.extra.socket.close(4401, 'Unauthorized');
          return false;
        }
        ctx.extra.principal = principal;
        return true;
      },
      onSubscribe: (ctx, id, payload): ExecutionArgs | readonly GraphQLError[] => {
        (ctx.extra.operations ??= new Map()).set(id, { name: payload.operationName ?? null, type: null, started: performance.now() });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          return [withCode(error, 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(schema, document, [...specifiedRules, ...validationRules]);
        if (errors.length > 0) return errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
        const operation = getOperationAST(document, payload.operationName);
        ctx.extra.operations.get(id)!.type = operation?.operation ?? null;
        try {
          assertMayRun(ctx.extra.principal, operation?.operation ?? 'query');
        } catch (error) {
          return [error as GraphQLError];
        }
        return {
          schema,
          document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue: contextFor(ctx.extra.principal!),
        };
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? { ...result, errors: result.errors.map((e) => maskError(log, e.toJSON(), e)) }
          : undefined,
      onError: (ctx, id, _payload, errors) => {
        const masked = errors.map((e) => maskError(log, e.toJSON(), e));
        logWsOperation(ctx.extra, id, masked.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')));
        return masked;
      },
      onComplete: (ctx, id) => logWsOperation(ctx.extra, id, []),
    },
    wsServer,
  );

  const apollo = new ApolloServer<Context>({
    schema,
    validationRules,
    includeStacktraceInErrorResponses: false,
    // Herald's main.ts owns SIGTERM/SIGINT and shuts down in order.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => maskError(log, formatted, error),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      { serverWillStart: async () => ({ drainServer: async () => void (await wsCleanup.dispose()) }) },
      ApolloServerPluginLandingPageDisabled(),
      accessPlugin(),
      operationLogPlugin(log),
    ],
  });
  await apollo.start();

  app.use(graphiqlRoutes());
  app.use(
    '/graphql',
    express.json({ limit: '16mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }): Promise<Context> => {
        const principal = tokens.authenticate(req.headers.authorization);
        if (!principal) {
          log.warn({ transport: 'http', hasHeader: req.headers.authorization !== undefined }, 'unauthenticated request refused');
          throw new UnauthenticatedError();
        }
        return contextFor(principal);
      },
    }),
  );

  return () => apollo.stop();
}

/**
 * What fails before Apollo (a body that is not JSON or is too large, a GraphiQL asset that
 * cannot be read) is answered like a GraphQL error, not with express's HTML page, which
 * outside production shows the stack trace.
 */
function errorHandler(log: Logger) {
  return (err: { status?: unknown; type?: unknown; expose?: unknown; message?: unknown }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err }, 'internal error in an HTTP request');
    const message =
      status === 500
        ? 'Internal server error'
        : err.type === 'entity.parse.failed'
          ? 'the request body is not valid JSON'
          : err.expose === true && typeof err.message === 'string'
            ? err.message
            : 'bad request';
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
  };
}

/**
 * graphql-js's own parse and validation errors carry no code; Apollo gives them one over
 * HTTP, and the websocket gives them the same, so that maskError lets them through.
 */
function withCode(error: GraphQLError, code: 'GRAPHQL_PARSE_FAILED' | 'GRAPHQL_VALIDATION_FAILED'): GraphQLError {
  if (error.extensions?.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/** Viewers may read, not write: checked once the operation's type is known. */
function accessPlugin(): ApolloServerPlugin<Context> {
  return {
    requestDidStart: async () => ({
      didResolveOperation: async ({ operation, contextValue }) => {
        assertMayRun(contextValue.principal, operation?.operation ?? 'query');
      },
    }),
  };
}

/** One log line per GraphQL operation: its name, type, duration and outcome. */
function operationLogPlugin(log: Logger): ApolloServerPlugin<Context> {
  return {
    requestDidStart: async ({ contextValue }) => {
      const started = performance.now();
      return {
        willSendResponse: async ({ operationName, operation, errors }) => {
          const codes = errors?.map((e) => e.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
          log.info(
            {
              operationName: operationName ?? null,
              operationType: operation?.operation ?? null,
              role: contextValue.principal.role,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
              outcome: errors?.length ? 'error' : 'ok',
              ...(codes?.length ? { errorCodes: [...new Set(codes)] } : {}),
            },
            'graphql operation',
          );
        },
      };
    },
  };
}
