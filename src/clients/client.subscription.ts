import { Resolver, Root, Subscription } from 'type-graphql';
import type { DirectoryChangeValue } from '../live/live-updates';
import type { Context } from '../api/context';
import { ClientsChange } from './client.type';

@Resolver()
export class ClientSubscriptionResolver {
  @Subscription(() => ClientsChange, {
    description:
      'An event whenever the client directory changes; a subscriber that reads slowly gets one event for several changes.',
    subscribe: ({ context }) => (context as Context).live.directoryChanges(),
  })
  clientsChanged(@Root() change: DirectoryChangeValue): DirectoryChangeValue {
    return change;
  }
}
