import 'reflect-metadata';
import { GraphQLDateTime } from 'graphql-scalars';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ClientResolver } from '../clients/client.resolver';
import { MailingResolver } from '../mailings/mailing.resolver';
import { MessageResolver } from '../messages/message.resolver';
import { StatisticsResolver } from '../statistics/statistics.resolver';

/**
 * The executable schema, built from the type-graphql classes. `schema.graphql` at the top of
 * the repository is this schema printed (`npm run schema:emit`); a test keeps them equal.
 */
export function buildHeraldSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [ClientResolver, MailingResolver, MessageResolver, StatisticsResolver],
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    emitSchemaFile: false,
    // Input rules live in each capability's *.validation.ts and name the field at fault.
    validate: false,
  });
}
