import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ClientFilter } from '../clients/client.type';
import { pageRequest, toPage } from '../common/page';
import type { Context } from '../graphql/context';
import { requireRowId, toRowId } from '../common/ids';
import { countMailingMessages, listMailingMessages } from '../messages/message.store';
import type { MessageStatus as MessageStatusValue } from '../messages/message.table';
import { MessageConnection, MessageStats, MessageStatus } from '../messages/message.type';
import { CreateMailingInput, UpdateMailingInput } from './mailing.input';
import * as service from './mailing.service';
import type { MailingRow, MailingStatus as MailingStatusValue } from './mailing.table';
import { Mailing, MailingConnection, MailingStatus, SendWindow } from './mailing.type';
import { formatTimeOfDay } from './send-window';

/** A mailing for a field, its statistics read with it and handed to the `stats` field's loader. */
export async function loadMailing(ctx: Context, id: number): Promise<MailingRow | null> {
  const found = await service.findMailing(ctx.db, id);
  if (!found) return null;
  ctx.loaders.statsByMailingId.prime(found.mailing.id, found.stats);
  return found.mailing;
}

@Resolver(() => Mailing)
export class MailingResolver {
  @Query(() => Mailing, { nullable: true, description: 'null when no mailing has this id' })
  mailing(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    const rowId = toRowId(id);
    return rowId === undefined ? null : loadMailing(ctx, rowId);
  }

  @Query(() => MailingConnection, { description: 'Mailings, newest first; `first` is at most 500 (default 50).' })
  mailings(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('status', () => MailingStatus, { nullable: true }) status: MailingStatusValue | null,
    @Ctx() ctx: Context,
  ) {
    return service.listMailings(ctx.db, status, pageRequest(first, after));
  }

  @Mutation(() => Mailing)
  createMailing(@Arg('input', () => CreateMailingInput) input: CreateMailingInput, @Ctx() ctx: Context) {
    return service.createMailing(ctx, input);
  }

  @Mutation(() => Mailing)
  updateMailing(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateMailingInput) input: UpdateMailingInput,
    @Ctx() ctx: Context,
  ) {
    return service.updateMailing(ctx, requireRowId(id), input);
  }

  @Mutation(() => Boolean, { description: 'Removes the mailing and its messages. No request for it starts after this returns.' })
  deleteMailing(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return service.deleteMailing(ctx, requireRowId(id));
  }

  @Mutation(() => Mailing, { description: 'RUNNING → PAUSED. No request for it starts after this returns.' })
  pauseMailing(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return service.pauseMailing(ctx, requireRowId(id));
  }

  @Mutation(() => Mailing, { description: 'PAUSED → RUNNING: sending goes on until endAt.' })
  resumeMailing(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return service.resumeMailing(ctx, requireRowId(id));
  }

  @Mutation(() => Mailing, {
    description: 'Stops the mailing for good; its history stays and messages not yet sent become CANCELLED. No request for it starts after this returns.',
  })
  cancelMailing(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return service.cancelMailing(ctx, requireRowId(id));
  }

  @FieldResolver(() => ClientFilter)
  filter(@Root() mailing: MailingRow): ClientFilter {
    return { operatorCodes: mailing.filterOperatorCodes, tags: mailing.filterTags, tagMatch: mailing.filterTagMatch };
  }

  @FieldResolver(() => SendWindow, { nullable: true })
  sendWindow(@Root() mailing: MailingRow): SendWindow | null {
    if (mailing.sendWindowFrom === null || mailing.sendWindowTo === null) return null;
    return { from: formatTimeOfDay(mailing.sendWindowFrom), to: formatTimeOfDay(mailing.sendWindowTo) };
  }

  @FieldResolver(() => MessageStats)
  stats(@Root() mailing: MailingRow, @Ctx() ctx: Context) {
    return ctx.loaders.statsByMailingId.load(mailing.id);
  }

  @FieldResolver(() => MessageConnection, { description: 'Its messages in id order; `first` is at most 500 (default 50).' })
  async messages(
    @Root() mailing: MailingRow,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('status', () => MessageStatus, { nullable: true }) status: MessageStatusValue | null,
    @Ctx() ctx: Context,
  ) {
    const req = pageRequest(first, after);
    const rows = await listMailingMessages(ctx.db, mailing.id, status, req);
    return toPage(rows, req, () => countMailingMessages(ctx.db, mailing.id, status));
  }
}
