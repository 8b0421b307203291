import { Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../api/context';
import { Principal } from './principal.type';

@Resolver(() => Principal)
export class PrincipalResolver {
  @Query(() => Principal, { description: 'The role of the token this request carries, e.g. to show a viewer no write buttons.' })
  me(@Ctx() ctx: Context): Principal {
    return ctx.principal;
  }
}
