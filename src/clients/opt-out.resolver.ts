import { Arg, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import { pageRequest } from '../common/page';
import type { Context } from '../api/context';
import * as service from './opt-out.service';
import { OptOut, OptOutConnection } from './opt-out.type';

@Resolver(() => OptOut)
export class OptOutResolver {
  @Query(() => OptOutConnection, { description: 'Phones opted out, in the order they opted out; `first` is at most 500 (default 50).' })
  optOuts(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('phone', () => String, { nullable: true, description: 'a search: digits the phone contains, e.g. 1234' }) phone: string | null,
    @Ctx() ctx: Context,
  ) {
    return service.listOptOuts(ctx.db, phone, pageRequest(first, after));
  }

  @Mutation(() => Boolean, {
    description: 'The phone receives nothing more: no audience includes it, and running mailings skip its message (SKIPPED).',
  })
  optOut(@Arg('phone', () => String) phone: string, @Arg('reason', () => String, { nullable: true }) reason: string | null, @Ctx() ctx: Context) {
    return service.optOut(ctx.db, ctx.log, phone, reason);
  }

  @Mutation(() => Boolean, { description: 'Lifts an opt-out: mailings that start from now on include the phone. False when it had none.' })
  optIn(@Arg('phone', () => String) phone: string, @Ctx() ctx: Context) {
    return service.optIn(ctx.db, ctx.log, phone);
  }
}
