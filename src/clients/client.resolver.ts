import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../api/context';
import { pageRequest, toPageBy } from '../common/page';
import { countClientMessages, listClientMessages } from '../messages/message.store';
import { MessageConnection } from '../messages/message.type';
import { tagCounts } from './client.store';
import { Tag } from './tag.type';
import { requireRowId, toRowId } from '../common/ids';
import { MAX_IMPORT_ROWS } from './client.csv';
import { ClientFilterInput, CreateClientInput, UpdateClientInput } from './client.input';
import { clientLoaders } from './client.loaders';
import * as service from './client.service';
import type { ClientRow } from './client.table';
import { Client, ClientConnection, ImportResult } from './client.type';

@Resolver(() => Client)
export class ClientResolver {
  @FieldResolver(() => Boolean, { description: 'its phone asked to receive nothing (optOut): no mailing sends to it' })
  optedOut(@Root() client: ClientRow, @Ctx() ctx: Context) {
    return ctx.loaders.get(clientLoaders).optedOutByPhone.load(client.phone);
  }

  @FieldResolver(() => MessageConnection, {
    description: 'Its messages across mailings, newest mailing first (one per mailing); `first` is at most 500 (default 50). A message appears once it has a row: when it was tried, or its mailing ended.',
  })
  async messages(
    @Root() client: ClientRow,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ) {
    const req = pageRequest(first, after);
    const rows = await listClientMessages(ctx.db, client.id, req.limit + 1, req.afterId);
    return toPageBy(rows, req, (m) => m.mailingId, () => countClientMessages(ctx.db, client.id));
  }

  @Query(() => [Tag], { description: 'Every tag clients carry, with how many carry it; most carried first, then by name.' })
  tags(@Ctx() ctx: Context) {
    return tagCounts(ctx.db);
  }

  @Query(() => Client, { nullable: true, description: 'null when no client has this id' })
  client(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    const rowId = toRowId(id);
    return rowId === undefined ? null : ctx.loaders.get(clientLoaders).clientById.load(rowId);
  }

  @Query(() => ClientConnection, { description: 'Clients in id order; `first` is at most 500 (default 50).' })
  clients(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('filter', () => ClientFilterInput, { nullable: true }) filter: ClientFilterInput | null,
    @Arg('phone', () => String, { nullable: true, description: 'a search: digits the phone contains, e.g. 1234' }) phone: string | null,
    @Ctx() ctx: Context,
  ) {
    return service.listClients(ctx.db, filter, phone, pageRequest(first, after));
  }

  @Mutation(() => Client)
  createClient(@Arg('input', () => CreateClientInput) input: CreateClientInput, @Ctx() ctx: Context) {
    return service.createClient(ctx.db, ctx.log, input);
  }

  @Mutation(() => ImportResult, {
    description: `Adds up to ${MAX_IMPORT_ROWS.toLocaleString('en-US')} clients at once; bad rows are reported by index and do not stop the good ones.`,
  })
  importClients(@Arg('input', () => [CreateClientInput]) input: CreateClientInput[], @Ctx() ctx: Context) {
    return service.importClients(ctx.db, ctx.log, input);
  }

  @Mutation(() => Client)
  updateClient(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateClientInput) input: UpdateClientInput,
    @Ctx() ctx: Context,
  ) {
    return service.updateClient(ctx.db, ctx.log, requireRowId(id), input);
  }

  @Mutation(() => Boolean, { description: 'Removes the client; messages already made for it keep their history.' })
  deleteClient(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return service.deleteClient(ctx.db, ctx.log, requireRowId(id));
  }
}
