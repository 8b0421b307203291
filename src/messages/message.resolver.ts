import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Client } from '../clients/client.type';
import { clientLoaders } from '../clients/client.loaders';
import type { Context } from '../api/context';
import type { MessageRow } from './message.table';
import { Message } from './message.type';
import { Mailing } from '../mailings/mailing.type';
import { mailingLoaders } from '../mailings/mailing.loaders';

@Resolver(() => Message)
export class MessageResolver {
  @FieldResolver(() => Client, { nullable: true })
  client(@Root() message: MessageRow, @Ctx() ctx: Context) {
    return ctx.loaders.get(clientLoaders).clientById.load(message.clientId);
  }

  @FieldResolver(() => Mailing, { nullable: true, description: 'the mailing it belongs to' })
  mailing(@Root() message: MessageRow, @Ctx() ctx: Context) {
    return ctx.loaders.get(mailingLoaders).mailingById.load(message.mailingId);
  }
}
