import type { SettledObserver } from '../mailings/mailing.lifecycle';
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Authenticator } from '../auth/authenticator';
import type { Principal } from '../auth/tokens';
import type { Config } from '../config';
import { CostBudget } from '../ratelimit/cost-budget';
import { FailedAuthLimiter } from '../ratelimit/failed-auth';
import type { Db } from '../db/connection';
import type { MailingTimers } from '../mailings/mailing.timers';
import type { LiveUpdates } from '../live/live-updates';
import type { Logger } from '../logger';
import type { CampaignRules } from '../mailings/campaign.rules';
import type { TestSender } from '../testsend/test-send.service';
import type { ReportQueue } from '../reports/report.service';
import { createLoaders, type Context } from './context';
import { OperationGate, type OperationObserver } from './gate';
import { graphiqlRoutes } from './graphiql';
import { startHttpTransport } from './http';
import { OriginPolicy } from './origin';
import { startWebsocketTransport } from './websocket';

export type GraphqlOptions = {
  schema: GraphQLSchema;
  db: Db;
  auth: Authenticator;
  maxDepth: number;
  /** what one request may cost, and budgets (GRAPHQL_MAX_*, RATE_LIMIT_*, WS_*) */
  limits: Config['limits'];
  /** browser origins besides Herald's own that may call it */
  corsOrigins: readonly string[];
  timers: MailingTimers;
  live: LiveUpdates;
  campaign: CampaignRules;
  testSender: TestSender;
  observer?: OperationObserver;
  reports: ReportQueue;
  onSettled?: SettledObserver;
  /** why the database does not answer now, or null (the database monitor's verdict) */
  databaseProblem?: () => string | null;
};

/**
 * GraphiQL and GraphQL at `/graphql`: over HTTP (Apollo) and over websocket (graphql-ws),
 * both through one OperationGate. Returns the function that drains and stops both.
 */
export async function mountGraphql(app: Express, server: Server, opts: GraphqlOptions, log: Logger): Promise<() => Promise<void>> {
  const { schema, db, timers, live, campaign, testSender, reports, onSettled } = opts;
  const { limits } = opts;
  const failedAuth = new FailedAuthLimiter(limits.authFailuresPerMinute, log);
  const gate = new OperationGate({
    schema,
    auth: opts.auth,
    origins: new OriginPolicy(opts.corsOrigins),
    limits: { maxDepth: opts.maxDepth, maxCost: limits.maxCost, maxAliases: limits.maxAliases, maxDocumentBytes: limits.maxDocumentBytes, introspection: limits.introspection },
    budget: new CostBudget(db, limits.costPerMinute, log, () => opts.databaseProblem?.() != null),
    failedAuth,
    log,
    observer: opts.observer,
  });
  const contextFor = (principal: Principal): Context => ({ principal, db, log, timers, live, campaign, testSender, reports, onSettled, loaders: createLoaders(db) });

  const websocket = startWebsocketTransport(server, schema, gate, limits.ws, contextFor);
  const http = await startHttpTransport(server, schema, gate, limits, contextFor, async () => {
    failedAuth.stop();
    await websocket.dispose();
  });
  // CORS first: GraphiQL's router, which serves GET /graphql, would answer a preflight itself.
  app.use('/graphql', http.cors);
  app.use(graphiqlRoutes());
  app.use('/graphql', ...http.handler);
  return http.stop;
}
