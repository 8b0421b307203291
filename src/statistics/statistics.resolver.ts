import { Arg, Ctx, FieldResolver, Int, Query, Resolver } from 'type-graphql';
import type { Context } from '../api/context';
import { UserInputError } from '../common/errors';
import { readMessagesPerDay } from './messages-per-day.store';
import { readStatistics } from './statistics.service';
import { DayFigures, Statistics } from './statistics.type';

const MAX_DAYS = 366;

@Resolver(() => Statistics)
export class StatisticsResolver {
  @Query(() => Statistics)
  statistics(@Ctx() ctx: Context): Promise<Statistics> {
    return readStatistics(ctx.db);
  }

  @FieldResolver(() => [DayFigures], { description: `Messages per UTC day over the last \`days\` days (default 30, at most ${MAX_DAYS}), today included, oldest first, every day listed; read when asked, not pushed by statisticsChanged.` })
  messagesPerDay(@Arg('days', () => Int, { nullable: true }) days: number | null, @Ctx() ctx: Context): Promise<DayFigures[]> {
    const wanted = days ?? 30;
    if (wanted < 1 || wanted > MAX_DAYS) throw new UserInputError('days', `must be between 1 and ${MAX_DAYS}`);
    return readMessagesPerDay(ctx.db, wanted);
  }
}
