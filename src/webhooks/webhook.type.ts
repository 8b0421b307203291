import { GraphQLDateTime } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { connectionType } from '../api/connection';

export const WEBHOOK_EVENTS = ['MESSAGE_STATUS', 'MAILING_STATUS', 'INBOUND', 'OPT_OUT'] as const;
export type WebhookEventValue = (typeof WEBHOOK_EVENTS)[number];
export const WebhookEvent = Object.fromEntries(WEBHOOK_EVENTS.map((e) => [e, e])) as { [K in WebhookEventValue]: K };
registerEnumType(WebhookEvent, { name: 'WebhookEvent', description: 'What a webhook is told of (docs/webhooks.md lists each payload).' });

export const WebhookDeliveryStatus = { PENDING: 'PENDING', DELIVERED: 'DELIVERED', FAILED: 'FAILED' } as const;
registerEnumType(WebhookDeliveryStatus, { name: 'WebhookDeliveryStatus', description: 'PENDING until answered 2xx (DELIVERED) or given up after the retry period (FAILED).' });

@ObjectType({ description: "Another system's endpoint that receives Herald's events, signed as Standard Webhooks says." })
export class Webhook {
  @Field(() => ID) id!: string;
  @Field(() => String) url!: string;
  @Field(() => [WebhookEvent]) events!: WebhookEventValue[];
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => Boolean) enabled!: boolean;
  @Field(() => String, { nullable: true, description: 'why Herald disabled it (failing for 24 h)' }) disabledReason!: string | null;
  @Field(() => GraphQLDateTime) createdAt!: Date;
  @Field(() => GraphQLDateTime) updatedAt!: Date;
}

@ObjectType({ description: 'One event owed to one webhook, with its attempts.' })
export class WebhookDelivery {
  @Field(() => ID, { description: 'the event id, as sent in webhook-id' }) eventId!: string;
  @Field(() => String, { description: 'a WebhookEvent name, or TEST (testWebhook)' }) type!: string;
  @Field(() => WebhookDeliveryStatus) status!: string;
  @Field(() => Int) attempts!: number;
  @Field(() => String, { nullable: true }) lastError!: string | null;
  @Field(() => GraphQLDateTime, { description: 'when the event happened' }) createdAt!: Date;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'for PENDING' }) nextAttemptAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true }) deliveredAt!: Date | null;
  @Field(() => String, { description: 'the JSON body as sent' }) payload!: string;
}

export const WebhookDeliveryConnection = connectionType(WebhookDelivery, 'WebhookDelivery');

@ObjectType({ description: 'A new webhook and its signing secret: the only time the secret is shown.' })
export class CreatedWebhook {
  @Field(() => Webhook) webhook!: Webhook;
  @Field(() => String, { description: 'whsec_<base64 key>: verify signatures with it (standardwebhooks)' }) secret!: string;
}

@InputType()
export class CreateWebhookInput {
  @Field(() => String, { description: 'http or https; in production not a loopback, private or link-local address (unless WEBHOOK_ALLOW_PRIVATE=true)' })
  url!: string;
  @Field(() => [WebhookEvent], { description: 'at least one' }) events!: WebhookEventValue[];
  @Field(() => String, { nullable: true }) description?: string | null;
}

@InputType()
export class UpdateWebhookInput {
  @Field(() => String, { nullable: true }) url?: string | null;
  @Field(() => [WebhookEvent], { nullable: true }) events?: WebhookEventValue[] | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'true re-enables a disabled webhook' }) enabled?: boolean | null;
}
