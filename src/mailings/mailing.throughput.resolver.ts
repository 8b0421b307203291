import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { Context } from '../api/context';
import { UserInputError } from '../common/errors';
import { readThroughput } from '../messages/throughput.store';
import type { MailingRow } from './mailing.table';
import { Mailing, Throughput } from './mailing.type';

const MAX_POINTS = 1_000;

@Resolver(() => Mailing)
export class MailingThroughputResolver {
  @FieldResolver(() => Throughput, { description: 'Its throughput over time, in about `points` buckets (default 120, at most 1000); read once, not live.' })
  async throughput(
    @Root() mailing: MailingRow,
    @Arg('points', () => Int, { nullable: true }) points: number | null,
    @Ctx() ctx: Context,
  ): Promise<Throughput> {
    const wanted = points ?? 120;
    if (wanted < 1 || wanted > MAX_POINTS) throw new UserInputError('points', `must be between 1 and ${MAX_POINTS}`);
    const { bucketSeconds, buckets } = await readThroughput(ctx.db, mailing.id, wanted);
    return { bucketSeconds, points: buckets.map((b) => ({ ...b, perSecond: b.count / bucketSeconds })) };
  }
}
