import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../api/context';
import { clientLoaders } from '../clients/client.loaders';
import { pageRequest } from '../common/page';
import { listInboundMessages } from './inbound.service';
import type { InboundMessageRow } from './inbound.table';
import { InboundMessage, InboundMessageConnection } from './inbound.type';
import { Client } from '../clients/client.type';

@Resolver(() => InboundMessage)
export class InboundResolver {
  @Query(() => InboundMessageConnection, { description: 'Replies phones sent, newest first; `first` is at most 500 (default 50).' })
  inboundMessages(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('phone', () => String, { nullable: true, description: 'a search: digits the phone contains, e.g. 1234' }) phone: string | null,
    @Ctx() ctx: Context,
  ) {
    return listInboundMessages(ctx.db, phone, pageRequest(first, after));
  }

  @Subscription(() => InboundMessage, {
    description: 'Each reply as it is kept (by any Herald process), with what it did.',
    subscribe: ({ context }) => (context as Context).live.inboundReceived(),
  })
  inboundReceived(@Root() row: InboundMessageRow): InboundMessageRow {
    return row;
  }

  @FieldResolver(() => String)
  from(@Root() row: InboundMessageRow): string {
    return row.fromPhone;
  }

  @FieldResolver(() => Client, { nullable: true })
  client(@Root() row: InboundMessageRow, @Ctx() ctx: Context) {
    // The client with the phone now (the contract's): one added after the reply shows, a
    // deleted one does not. `client_id` keeps who it was when it came, for the history.
    return ctx.loaders.get(clientLoaders).clientByPhone.load(row.fromPhone);
  }
}
