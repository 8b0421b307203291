import { Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../api/context';
import { readStatistics } from './statistics.service';
import { Statistics } from './statistics.type';

@Resolver(() => Statistics)
export class StatisticsResolver {
  @Query(() => Statistics)
  statistics(@Ctx() ctx: Context): Promise<Statistics> {
    return readStatistics(ctx.db);
  }
}
