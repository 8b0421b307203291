import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../api/context';
import { requireRowId } from '../common/ids';
import type { MailingChangeValue, MailingProgressValue } from '../live/live-updates';
import { loadMailing } from './mailing.resolver';
import { mailingLoaders } from './mailing.loaders';
import { Mailing, MailingChange, MailingProgress } from './mailing.type';

@Resolver()
export class MailingSubscriptionResolver {
  @Subscription(() => MailingProgress, {
    description:
      'A snapshot at once, then an event whenever the mailing changes (a few a second at most). At a terminal status it completes when no message awaits a receipt; until then receipts keep it going, and it completes once its counts have not moved for LIVE_RECEIPT_IDLE_MS.',
    subscribe: ({ args, context }) => (context as Context).live.mailingProgress(requireRowId(args.mailingId, 'mailingId')),
  })
  mailingProgress(
    @Root() progress: MailingProgressValue,
    @Arg('mailingId', () => ID) _mailingId: string,
    @Ctx() ctx: Context,
  ): MailingProgressValue {
    // `mailing { stats }` are this event's counts, not a second read that could disagree
    // with `stats`: handed to the loader that field reads (each event has its own).
    ctx.loaders.get(mailingLoaders).statsByMailingId.prime(progress.mailingId, progress.stats);
    return progress;
  }

  @Subscription(() => MailingChange, {
    description: 'Lifecycle events of every mailing: created, updated, started, paused, resumed, completed, cancelled, deleted.',
    subscribe: ({ context }) => (context as Context).live.mailingChanges(),
  })
  mailingsChanged(@Root() change: MailingChangeValue): MailingChangeValue {
    return change;
  }
}

@Resolver(() => MailingChange)
export class MailingChangeResolver {
  @FieldResolver(() => Mailing, { nullable: true })
  mailing(@Root() change: MailingChangeValue, @Ctx() ctx: Context) {
    return change.kind === 'DELETED' ? null : loadMailing(ctx, change.mailingId);
  }
}
