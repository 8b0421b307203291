import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../graphql/context';
import { requireRowId } from '../graphql/ids';
import type { MailingChangeValue, MailingProgressValue } from '../events/live-updates';
import { MailingChange, MailingProgress } from './mailing.type';

@Resolver()
export class MailingSubscriptionResolver {
  @Subscription(() => MailingProgress, {
    description:
      'A snapshot at once, then an event whenever the mailing changes (a few a second at most), and a final one at a terminal status.',
    subscribe: ({ args, context }) => (context as Context).live.mailingProgress(requireRowId(args.mailingId, 'mailingId')),
  })
  mailingProgress(@Root() progress: MailingProgressValue, @Arg('mailingId', () => ID) _mailingId: string): MailingProgressValue {
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
