import type { Server } from 'node:http';
import type { Express } from 'express';
import type { GraphQLSchema } from 'graphql';
import { requestContext, type Services } from '../api/context';
import type { Authenticator } from '../auth/authenticator';
import type { Principal } from '../auth/tokens';
import type { Config } from '../config';
import { OperationGate, type OperationObserver } from './gate';
import { graphiqlRoutes } from './graphiql';
import { startHttpTransport } from './http';
import { OriginPolicy } from './origin';
import type { FanoutObserver } from './subscription.fanout';
import { startWebsocketTransport } from './websocket';

export type GraphqlOptions = {
  schema: GraphQLSchema;
  /** what every operation's context is built from (main.ts builds them once) */
  services: Services;
  auth: Authenticator;
  maxDepth: number;
  /** what one request may cost, and budgets (GRAPHQL_MAX_*, RATE_LIMIT_*, WS_*) */
  limits: Config['limits'];
  /** browser origins besides Herald's own that may call it */
  corsOrigins: readonly string[];
  observer?: OperationObserver;
  /** told of shared subscription executions (metrics) */
  fanoutObserver?: FanoutObserver;
};

/**
 * GraphiQL and GraphQL at `/graphql`: over HTTP (Apollo) and over websocket (graphql-ws),
 * both through one OperationGate. Returns the function that drains and stops both.
 */
export async function mountGraphql(app: Express, server: Server, opts: GraphqlOptions): Promise<() => Promise<void>> {
  const { schema, services, limits } = opts;
  const gate = new OperationGate({
    schema,
    auth: opts.auth,
    origins: new OriginPolicy(opts.corsOrigins),
    limits: { maxDepth: opts.maxDepth, maxCost: limits.maxCost, maxAliases: limits.maxAliases, maxDocumentBytes: limits.maxDocumentBytes, introspection: limits.introspection },
    budget: services.budgets.cost,
    failedAuth: services.budgets.failedAuth,
    log: services.log,
    observer: opts.observer,
  });
  const contextFor = (principal: Principal) => requestContext(services, principal);

  const websocket = startWebsocketTransport(server, schema, gate, limits.ws, contextFor, services.log, opts.fanoutObserver);
  const http = await startHttpTransport(server, schema, gate, limits, contextFor, async () => websocket.dispose());
  // CORS first: GraphiQL's router, which serves GET /graphql, would answer a preflight itself.
  app.use('/graphql', http.cors);
  app.use(graphiqlRoutes());
  app.use('/graphql', ...http.handler);
  return http.stop;
}
