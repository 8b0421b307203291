import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../api/context';
import { requireRowId, toRowId } from '../common/ids';
import { pageRequest } from '../common/page';
import * as service from './webhook.service';
import type { WebhookRow } from './webhook.table';
import { CreatedWebhook, CreateWebhookInput, UpdateWebhookInput, Webhook, WebhookDelivery, WebhookDeliveryConnection } from './webhook.type';

@Resolver(() => Webhook)
export class WebhookResolver {
  @Query(() => [Webhook], { description: 'Every webhook, oldest first; admin only.' })
  webhooks(@Ctx() ctx: Context) {
    service.assertAdmin(ctx.principal);
    return service.listWebhooks(ctx.db);
  }

  @Query(() => Webhook, { nullable: true, description: 'null when none has this id; admin only.' })
  async webhook(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    service.assertAdmin(ctx.principal);
    const rowId = toRowId(id);
    return rowId === undefined ? null : ((await service.getWebhook(ctx.db, rowId)) ?? null);
  }

  @Mutation(() => CreatedWebhook, { description: 'A webhook and its signing secret, shown this once.' })
  createWebhook(@Arg('input', () => CreateWebhookInput) input: CreateWebhookInput, @Ctx() ctx: Context) {
    service.assertAdmin(ctx.principal);
    return service.createWebhook(ctx.db, ctx.log, ctx.webhookPolicy, input);
  }

  @Mutation(() => Webhook, { description: 'Changes what is given; `enabled: true` re-enables a disabled one.' })
  updateWebhook(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateWebhookInput) input: UpdateWebhookInput, @Ctx() ctx: Context) {
    service.assertAdmin(ctx.principal);
    return service.updateWebhook(ctx.db, ctx.log, ctx.webhookPolicy, requireRowId(id), input);
  }

  @Mutation(() => Boolean, { description: 'Deletes the webhook and what it was owed.' })
  deleteWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    service.assertAdmin(ctx.principal);
    return service.deleteWebhook(ctx.db, ctx.log, requireRowId(id));
  }

  @Mutation(() => WebhookDelivery, { description: 'Queues an event of type TEST (data: {"webhookId"}) for this webhook only.' })
  testWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    service.assertAdmin(ctx.principal);
    return service.testWebhook(ctx.db, ctx.log, requireRowId(id));
  }

  @FieldResolver(() => WebhookDeliveryConnection, { description: 'Newest first; `first` is at most 500 (default 50).' })
  deliveries(
    @Root() webhook: WebhookRow,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ) {
    return service.listDeliveries(ctx.db, webhook.id, pageRequest(first, after));
  }

  @FieldResolver(() => Int)
  pendingDeliveries(@Root() webhook: WebhookRow, @Ctx() ctx: Context) {
    return service.countDeliveries(ctx.db, webhook.id, 'PENDING');
  }

  @FieldResolver(() => Int)
  failedDeliveries(@Root() webhook: WebhookRow, @Ctx() ctx: Context) {
    return service.countDeliveries(ctx.db, webhook.id, 'FAILED');
  }
}
