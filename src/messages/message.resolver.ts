import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Client } from '../clients/client.type';
import type { Context } from '../graphql/context';
import type { MessageRow } from './message.table';
import { Message } from './message.type';

@Resolver(() => Message)
export class MessageResolver {
  @FieldResolver(() => Client, { nullable: true })
  client(@Root() message: MessageRow, @Ctx() ctx: Context) {
    return ctx.loaders.clientById.load(message.clientId);
  }
}
