import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../api/context';
import { requestReport } from './report.service';

@Resolver()
export class ReportResolver {
  @Mutation(() => Boolean, {
    description:
      'Sends the statistics e-mail now to `to`, for the period from `since` (default: 24 hours ago) to now. True once it is queued: ' +
      'a worker sends it within seconds, and tries again while the SMTP server refuses it.',
  })
  async sendStatisticsReport(
    @Arg('to', () => String) to: string,
    @Arg('since', () => Date, { nullable: true }) since: Date | null | undefined,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    await requestReport(ctx.reports, to, since ?? null);
    return true;
  }
}
