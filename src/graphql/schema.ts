import 'reflect-metadata';
import { GraphQLDateTime } from './datetime.scalar';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { PrincipalResolver } from '../auth/principal.resolver';
import { ClientResolver } from '../clients/client.resolver';
import { ClientSubscriptionResolver } from '../clients/client.subscription';
import { OptOutResolver } from '../clients/opt-out.resolver';
import { MailingResolver } from '../mailings/mailing.resolver';
import { MailingThroughputResolver } from '../mailings/mailing.throughput.resolver';
import { MailingChangeResolver, MailingSubscriptionResolver } from '../mailings/mailing.subscription';
import { MessageResolver } from '../messages/message.resolver';
import { MessageSubscriptionResolver } from '../messages/message.subscription';
import { StatisticsResolver } from '../statistics/statistics.resolver';
import { TestSendResolver } from '../testsend/test-send.resolver';
import { ReportResolver } from '../reports/report.resolver';
import { StatisticsSubscriptionResolver } from '../statistics/statistics.subscription';
import { ProviderResolver } from '../providers/provider.resolver';
import { InboundResolver } from '../inbound/inbound.resolver';
import { WebhookResolver } from '../webhooks/webhook.resolver';

/**
 * The executable schema, built from the type-graphql classes. `schema.graphql` at the top of
 * the repository is this schema printed (`npm run schema:emit`); a test keeps them equal.
 */
export function buildHeraldSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [
      PrincipalResolver,
      ClientResolver,
      ClientSubscriptionResolver,
      OptOutResolver,
      MailingResolver,
      MailingThroughputResolver,
      MailingSubscriptionResolver,
      MailingChangeResolver,
      MessageResolver,
      MessageSubscriptionResolver,
      StatisticsResolver,
      StatisticsSubscriptionResolver,
      TestSendResolver,
      ReportResolver,
      ProviderResolver,
      InboundResolver,
      WebhookResolver,
    ],
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    emitSchemaFile: false,
    // Herald's subscriptions give their own `subscribe` (LiveUpdates, fed by Postgres NOTIFY);
    // type-graphql insists on a PubSub all the same, so it gets one that is never used.
    pubSub: {
      publish: () => {
        throw new Error('subscriptions are fed by LiveUpdates, not by a PubSub');
      },
      subscribe: () => {
        throw new Error('subscriptions are fed by LiveUpdates, not by a PubSub');
      },
    },
    // Input rules live in each capability's *.validation.ts and name the field at fault.
    validate: false,
  });
}
