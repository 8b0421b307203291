import { GraphQLDateTime } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { connectionType } from '../api/connection';
import { Client } from '../clients/client.type';

export enum InboundAction {
  OPTED_OUT = 'OPTED_OUT',
  OPTED_IN = 'OPTED_IN',
}
registerEnumType(InboundAction, {
  name: 'InboundAction',
  description: 'What a reply did: OPTED_OUT (an opt-out keyword such as STOP), OPTED_IN (an opt-in keyword such as START lifted an opt-out).',
});

@ObjectType({ description: 'A message a phone sent to Herald (a reply), through a provider.' })
export class InboundMessage {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'the phone, 7XXXXXXXXXX (as the provider gave it when it is no such number)' }) from!: string;
  @Field(() => String) text!: string;
  @Field(() => GraphQLDateTime, { description: "the provider's time of it when it gave one, else when it came" }) receivedAt!: Date;
  @Field(() => String, { description: 'the provider it came through' }) provider!: string;
  @Field(() => Client, { nullable: true, description: 'the client with this phone now; null when none' }) client!: unknown;
  @Field(() => InboundAction, { nullable: true, description: 'null: kept, nothing done' }) action!: InboundAction | null;
}

export const InboundMessageConnection = connectionType(InboundMessage, 'InboundMessage');
