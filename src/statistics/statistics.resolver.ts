import { Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context';
import { countMailings } from '../mailings/mailing.store';
import { toMessageStats } from '../messages/message.stats';
import { countByStatus } from '../messages/message.store';
import { Statistics } from './statistics.type';

@Resolver(() => Statistics)
export class StatisticsResolver {
  @Query(() => Statistics)
  async statistics(@Ctx() ctx: Context): Promise<Statistics> {
    const [mailingCount, counts] = await Promise.all([countMailings(ctx.db, null), countByStatus(ctx.db)]);
    return { mailingCount, messages: toMessageStats(counts) };
  }
}
