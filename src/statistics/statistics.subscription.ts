import { Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../api/context';
import type { StatisticsValue } from './statistics.service';
import { Statistics } from './statistics.type';

@Resolver()
export class StatisticsSubscriptionResolver {
  @Subscription(() => Statistics, {
    description: 'The overall statistics at once, then whenever they change (a few times a second at most).',
    subscribe: ({ context }) => (context as Context).live.statistics(),
  })
  statisticsChanged(@Root() statistics: StatisticsValue): StatisticsValue {
    return statistics;
  }
}
