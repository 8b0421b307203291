import type { Server } from 'node:http';
import type { Express } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Principal, TokenRegistry } from '../auth/tokens';
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
  tokens: TokenRegistry;
  maxDepth: number;
  /** browser origins besides Herald's own that may call it */
  corsOrigins: readonly string[];
  timers: MailingTimers;
  live: LiveUpdates;
  campaign: CampaignRules;
  testSender: TestSender;
  observer?: OperationObserver;
  reports: ReportQueue;
};

/**
 * GraphiQL and GraphQL at `/graphql`: over HTTP (Apollo) and over websocket (graphql-ws),
 * both through one OperationGate. Returns the function that drains and stops both.
 */
export async function mountGraphql(app: Express, server: Server, opts: GraphqlOptions, log: Logger): Promise<() => Promise<void>> {
  const { schema, db, timers, live, campaign, testSender, reports } = opts;
  const gate = new OperationGate({ schema, tokens: opts.tokens, origins: new OriginPolicy(opts.corsOrigins), maxDepth: opts.maxDepth, log, observer: opts.observer });
  const contextFor = (principal: Principal): Context => ({ principal, db, log, timers, live, campaign, testSender, reports, loaders: createLoaders(db) });

  const websocket = startWebsocketTransport(server, schema, gate, contextFor);
  const http = await startHttpTransport(server, schema, gate, contextFor, async () => void (await websocket.dispose()));
  // CORS first: GraphiQL's router, which serves GET /graphql, would answer a preflight itself.
  app.use('/graphql', http.cors);
  app.use(graphiqlRoutes());
  app.use('/graphql', ...http.handler);
  return http.stop;
}
