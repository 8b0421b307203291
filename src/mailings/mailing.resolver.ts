import { GraphQLDateTime } from 'graphql-scalars';
import { Arg, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ClientFilterInput } from '../clients/client.input';
import { capOf, maxFailureRateOf } from './campaign.rules';
import { formatFrequencyCap } from './frequency-cap';
import { MailingEstimate, MailingPreview, TextMeasure } from './mailing.preview.type';
import { estimateMailing } from './mailing.estimate';
import { ClientFilter } from '../clients/client.type';
import { pageRequest, toPage } from '../common/page';
import type { Context } from '../api/context';
import { requireRowId, toRowId } from '../common/ids';
import { countMailingMessages, failureReasons, listMailingMessages } from '../messages/message.store';
import { UserInputError } from '../common/errors';
import { validatePhoneSearch } from '../clients/client.validation';
import type { MessageStatus as MessageStatusValue } from '../messages/message.table';
import { FailureReason, MessageConnection, MessageStats, MessageStatus } from '../messages/message.type';
import { CreateMailingInput, UpdateMailingInput } from './mailing.input';
import { mailingLoaders } from './mailing.loaders';
import * as service from './mailing.service';
import type { MailingRow, MailingStatus as MailingStatusValue } from './mailing.table';
import { Mailing, MailingAction, MailingConnection, MailingSort, MailingStatus, Segments, SendWindow } from './mailing.type';
import type { MailingSortValue } from './mailing.store';
import { actionsFor, isUnderWay, subjectOf, type MailingAction as MailingActionValue } from './mailing.transitions';
import { filterOf, formatSendWindow, frequencyCapOf, sendWindowOf } from './mailing.values';

/** A mailing for a field, its statistics read with it and handed to the `stats` field's loader. */
export async function loadMailing(ctx: Context, id: number): Promise<MailingRow | null> {
  const found = await service.findMailing(ctx.db, id);
  if (!found) return null;
  ctx.loaders.get(mailingLoaders).statsByMailingId.prime(found.mailing.id, found.stats);
  return found.mailing;
}

@Resolver(() => Mailing)
export class MailingResolver {
  @Query(() => Mailing, { nullable: true, description: 'null when no mailing has this id' })
  mailing(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    const rowId = toRowId(id);
    return rowId === undefined ? null : loadMailing(ctx, rowId);
  }

  @Query(() => MailingConnection, { description: 'Mailings, newest first unless `sort` says otherwise; `first` is at most 500 (default 50).' })
  mailings(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('status', () => MailingStatus, { nullable: true }) status: MailingStatusValue | null,
    @Arg('name', () => String, { nullable: true, description: 'a part of the name, in any case' }) name: string | null,
    @Arg('startFrom', () => GraphQLDateTime, { nullable: true, description: 'starting at or after this' }) startFrom: Date | null,
    @Arg('startTo', () => GraphQLDateTime, { nullable: true, description: 'starting before this' }) startTo: Date | null,
    @Arg('sort', () => MailingSort, { nullable: true, description: 'the order of the list (default CREATED_AT); a cursor belongs to the order it was read in' }) sort: MailingSortValue | null,
    @Arg('descending', () => Boolean, { nullable: true, description: 'largest (latest) first; default true' }) descending: boolean | null,
    @Ctx() ctx: Context,
  ) {
    return service.listMailings(ctx.db, { status, name, startFrom, startTo }, pageRequest(first, after), { sort: sort ?? 'CREATED_AT', descending: descending ?? true });
  }

  @Query(() => Int, { description: 'How many clients a filter matches now, opted-out phones left out: the audience a mailing starting now would have.' })
  audiencePreview(@Arg('filter', () => ClientFilterInput) filter: ClientFilterInput, @Ctx() ctx: Context) {
    return service.audiencePreview(ctx.db, filter);
  }

  @Query(() => TextMeasure, {
    description: 'How a text would be billed as a mailing text (placeholders at their longest); BAD_USER_INPUT on text for a malformed placeholder, but not for exceeding maxSegments.',
  })
  measureText(@Arg('text', () => String) text: string, @Ctx() ctx: Context) {
    return service.measureText(ctx.campaign, text);
  }

  @Query(() => MailingEstimate, {
    description: "What a text would cost the clients a filter matches now, rendered with each one's name and attributes (typical, longest, and worst case with every placeholder at its longest); BAD_USER_INPUT on text for a malformed placeholder.",
  })
  mailingEstimate(@Arg('text', () => String) text: string, @Arg('filter', () => ClientFilterInput) filter: ClientFilterInput, @Ctx() ctx: Context) {
    return estimateMailing(ctx.db, text, filter);
  }

  @Query(() => MailingPreview, { description: 'A text as it would go to one client (placeholders rendered), and how it would be billed.' })
  previewMailing(@Arg('text', () => String) text: string, @Arg('clientId', () => ID) clientId: string, @Ctx() ctx: Context) {
    return service.previewMailing(ctx, text, requireRowId(clientId, 'clientId'));
  }

  @Mutation(() => Mailing, {
    description: 'Queues the FAILED messages of a running mailing, or of a completed one whose end has not passed (it runs again), once more.',
  })
  retryFailed(@Arg('mailingId', () => ID) mailingId: string, @Ctx() ctx: Context) {
    return service.retryFailed(ctx, requireRowId(mailingId, 'mailingId'));
  }

  @Mutation(() => Mailing, {
    description: 'A new scheduled mailing with the same name, text, filter, send window and rules; its period as given, else the original\'s if still ahead, else as long, from an hour from now.',
  })
  duplicateMailing(
    @Arg('id', () => ID) id: string,
    @Arg('startAt', () => GraphQLDateTime, { nullable: true }) startAt: Date | null,
    @Arg('endAt', () => GraphQLDateTime, { nullable: true }) endAt: Date | null,
    @Ctx() ctx: Context,
  ) {
    return service.duplicateMailing(ctx, requireRowId(id), startAt, endAt);
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
    return service.pauseMailing(ctx, requireRowId(id), ctx.principal.id);
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
    return filterOf(mailing);
  }

  @FieldResolver(() => SendWindow, { nullable: true })
  sendWindow(@Root() mailing: MailingRow): SendWindow | null {
    const window = sendWindowOf(mailing);
    return window && formatSendWindow(window);
  }

  @FieldResolver(() => [MailingAction])
  async actions(@Root() mailing: MailingRow, @Ctx() ctx: Context): Promise<MailingActionValue[]> {
    const { failed } = await ctx.loaders.get(mailingLoaders).statsByMailingId.load(mailing.id);
    return actionsFor(subjectOf(mailing), ctx.principal.role, Date.now(), failed);
  }

  @FieldResolver(() => Boolean)
  underWay(@Root() mailing: MailingRow): boolean {
    return isUnderWay(mailing.status);
  }

  @FieldResolver(() => MessageStats)
  stats(@Root() mailing: MailingRow, @Ctx() ctx: Context) {
    return ctx.loaders.get(mailingLoaders).statsByMailingId.load(mailing.id);
  }

  @FieldResolver(() => Boolean, { description: 'whether its text has placeholders ({{name}}, {{attributes.key}}): each client gets a text of its own' })
  personalised(@Root() mailing: MailingRow): boolean {
    return service.isPersonalisedText(mailing.text);
  }

  @FieldResolver(() => Boolean, {
    description:
      'whether its messages are still kept: false once MESSAGE_RETENTION_DAYS dropped their partition (docs/retention.md); its stats stay, its `messages` page is then empty',
  })
  messagesRetained(@Root() mailing: MailingRow): boolean {
    return mailing.messagesPrunedAt === null;
  }

  @FieldResolver(() => Segments, { description: 'how its text is billed, at its placeholders\' longest values' })
  segments(@Root() mailing: MailingRow): Segments {
    return service.segmentsOfText(mailing.text);
  }

  @FieldResolver(() => Int, { description: 'before its start, the clients its filter matches now (opt-outs left out); from its start, its total' })
  audienceSize(@Root() mailing: MailingRow, @Ctx() ctx: Context) {
    return ctx.loaders.get(mailingLoaders).audienceSizeByMailing.load(mailing);
  }

  @FieldResolver(() => Int, { description: 'SMS parts its audience will be billed as: segments.parts × audienceSize' })
  async estimatedParts(@Root() mailing: MailingRow, @Ctx() ctx: Context) {
    return service.segmentsOfText(mailing.text).parts * (await ctx.loaders.get(mailingLoaders).audienceSizeByMailing.load(mailing));
  }

  @FieldResolver(() => String, { nullable: true })
  frequencyCap(@Root() mailing: MailingRow, @Ctx() ctx: Context): string | null {
    const cap = capOf(frequencyCapOf(mailing), ctx.campaign);
    return cap && formatFrequencyCap(cap);
  }

  @FieldResolver(() => Float)
  maxFailureRate(@Root() mailing: MailingRow, @Ctx() ctx: Context): number {
    return maxFailureRateOf(mailing, ctx.campaign);
  }

  @FieldResolver(() => [FailureReason], { description: 'FAILED, UNDELIVERED and EXPIRED messages grouped by status and lastError, most frequent first; `first` is 1 to 100' })
  failureReasons(
    @Root() mailing: MailingRow,
    @Arg('first', () => Int, { defaultValue: 10 }) first: number,
    @Ctx() ctx: Context,
  ) {
    if (!Number.isInteger(first) || first < 1 || first > 100) throw new UserInputError('first', 'must be between 1 and 100');
    return failureReasons(ctx.db, mailing.id, first);
  }

  @FieldResolver(() => MessageConnection, {
    description: 'Its messages in id order; `first` is at most 500 (default 50). Narrowed by `status`, `phone` (digits the number it went to contains) and `reason` (its lastError exactly, as failureReasons names it: "(no reason given)" for none).',
  })
  async messages(
    @Root() mailing: MailingRow,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('status', () => MessageStatus, { nullable: true }) status: MessageStatusValue | null,
    @Arg('phone', () => String, { nullable: true, description: 'a search: digits the phone it went to contains, e.g. 1234' }) phone: string | null,
    @Arg('reason', () => String, { nullable: true, description: 'its lastError exactly, as a FailureReason names it' }) reason: string | null,
    @Ctx() ctx: Context,
  ) {
    const req = pageRequest(first, after);
    if (reason != null && (reason.length === 0 || reason.length > 1000)) throw new UserInputError('reason', 'must be 1 to 1000 characters');
    const listing = { status, phoneContains: phone == null ? null : validatePhoneSearch(phone), reason };
    const rows = await listMailingMessages(ctx.db, mailing.id, listing, req);
    return toPage(rows, req, () => countMailingMessages(ctx.db, mailing.id, listing));
  }
}
