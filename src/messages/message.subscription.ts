import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { MessageChangeValue } from '../live/live-updates';
import type { Context } from '../api/context';
import { requireRowId } from '../common/ids';
import { MessageChange } from './message.type';

@Resolver()
export class MessageSubscriptionResolver {
  @Subscription(() => [MessageChange], {
    description:
      'Batches of messages of one mailing whose status, attempts or error changed through sending or a receipt (DELIVERED, UNDELIVERED; also after the mailing completed). Bulk changes (expiry at the end, cancellation) show in mailingProgress instead.',
    subscribe: ({ args, context }) => (context as Context).live.messageChanges(requireRowId(args.mailingId, 'mailingId')),
  })
  messageStatusChanged(@Root() batch: MessageChangeValue[], @Arg('mailingId', () => ID) _mailingId: string): MessageChangeValue[] {
    return batch;
  }
}
