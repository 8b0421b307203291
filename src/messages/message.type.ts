import { GraphQLDateTime } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Client } from '../clients/client.type';
import { connectionType } from '../api/connection';
import { MESSAGE_STATUSES, type MessageStatus as Status } from './message.table';

export const MessageStatus = Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, s])) as { [S in Status]: S };
registerEnumType(MessageStatus, {
  name: 'MessageStatus',
  description: 'PENDING: not yet accepted by the gateway. SENT: accepted. FAILED: refused as invalid. ' +
    'EXPIRED: the mailing ended before it could be sent. CANCELLED: its mailing was cancelled. ' +
    'SKIPPED: left out as the mailing ran (its phone opted out after the start, or a frequency cap), with the reason in lastError. ' +
    'DELIVERED: SENT, and the provider\'s receipt says it reached the phone. UNDELIVERED: SENT, and the receipt says it did not (the reason in lastError, e.g. "UNDELIV err:034").',
});

@ObjectType({ description: 'One message to one client within one mailing.' })
export class Message {
  @Field(() => ID, { description: 'a 64-bit integer; the gateway\'s msgId' }) id!: string;
  @Field(() => MessageStatus) status!: Status;
  @Field(() => GraphQLDateTime) createdAt!: Date;
  @Field(() => GraphQLDateTime, { nullable: true }) sentAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: "when its receipt says it was delivered or not (the receipt's time, else when the receipt came); null without one" })
  deliveredAt!: Date | null;
  @Field(() => Int, { description: 'requests made to the gateway for it' }) attempts!: number;
  @Field(() => String, { nullable: true, description: 'the last failure, or why it was skipped' }) lastError!: string | null;
  @Field(() => String, { nullable: true, description: 'the text it went out with, personalised; null until it did' }) text!: string | null;
  @Field(() => String, { nullable: true, description: 'the provider that took it (or may have: an ambiguous answer pins a message to its provider); null before one did' })
  provider!: string | null;
  @Field(() => String, { nullable: true, description: "the provider's id of it (SMPP: submit_sm_resp's message_id), when it gave one; receipts are matched by it" })
  providerMessageId!: string | null;
  @Field(() => String, { description: 'the number it went (or goes) to, copied from its client when its mailing started: history stays true after the client changes' })
  phone!: string;
  @Field(() => ID) mailingId!: string;
  @Field(() => ID) clientId!: string;
  @Field(() => Client, { nullable: true, description: 'null once the client is deleted' }) client?: Client | null;
}

@ObjectType()
export class MessageStatusCount {
  @Field(() => MessageStatus) status!: Status;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'Message counts by status.' })
export class MessageStats {
  @Field(() => Int) total!: number;
  @Field(() => Int) pending!: number;
  @Field(() => Int, { description: 'every message a provider accepted: SENT, DELIVERED and UNDELIVERED (receipts never make it go down)' }) sent!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int) expired!: number;
  @Field(() => Int) cancelled!: number;
  @Field(() => Int, { description: 'left out as the mailing ran: opted out since its start, or over a frequency cap' }) skipped!: number;
  @Field(() => Int, { description: "the provider's receipt says it reached the phone" }) delivered!: number;
  @Field(() => Int, { description: "the provider's receipt says it did not reach the phone" }) undelivered!: number;
  @Field(() => Int, { description: 'SENT with no receipt yet (a provider that never sends receipts leaves them here)' }) awaitingReceipt!: number;
  @Field(() => Float, { nullable: true, description: 'delivered / (delivered + undelivered); null while neither' }) deliveryRate!: number | null;
  @Field(() => [MessageStatusCount], { description: 'every status, zeros included, in a fixed order' })
  byStatus!: MessageStatusCount[];
}

export const MessageConnection = connectionType(Message, 'Message');

@ObjectType({ description: "Messages that did not reach the phone (FAILED, UNDELIVERED, EXPIRED) with one status and one lastError, and how many." })
export class FailureReason {
  @Field(() => MessageStatus) status!: Status;
  @Field(() => String, { description: 'their lastError, e.g. "UNDELIV err:034"; "(no reason given)" when they have none' }) reason!: string;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'A message whose status, attempts or error changed, as sent to messageStatusChanged subscribers.' })
export class MessageChange {
  @Field(() => ID) messageId!: string;
  @Field(() => Message, { description: 'the message itself as of this change, for a client cache' }) message!: Message;
  @Field(() => ID) clientId!: string;
  @Field(() => MessageStatus) status!: Status;
  @Field(() => Int) attempts!: number;
  @Field(() => String, { nullable: true }) lastError!: string | null;
  @Field(() => GraphQLDateTime) at!: Date;
}
