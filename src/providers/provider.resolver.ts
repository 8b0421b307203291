import { Ctx, Query, Resolver, Subscription, Root } from 'type-graphql';
import type { Context } from '../api/context';
import { Provider, type ProviderValue } from './provider.type';

@Resolver(() => Provider)
export class ProviderResolver {
  @Query(() => [Provider], { description: 'Every configured provider, as the worker processes see it now (the same from every api process).' })
  providers(@Ctx() ctx: Context): Promise<ProviderValue[]> {
    return ctx.providers.list();
  }

  @Subscription(() => [Provider], {
    description: 'Every provider at once, then whenever a state, a reason, binds or a rate changes (about once a second at most while sending).',
    subscribe: ({ context }) => (context as Context).providers.changes(),
  })
  providersChanged(@Root() providers: ProviderValue[]): ProviderValue[] {
    return providers;
  }
}
