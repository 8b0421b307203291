import { GraphQLDateTime } from 'graphql-scalars';
import { Field, Float, InputType } from 'type-graphql';
import { ClientFilterInput } from '../clients/client.input';

@InputType({ description: 'A daily window in each client\'s local time; from > to wraps midnight.' })
export class SendWindowInput {
  @Field(() => String, { description: 'HH:MM, e.g. 09:00' }) from!: string;
  @Field(() => String, { description: 'HH:MM, e.g. 21:00' }) to!: string;
}

@InputType()
export class CreateMailingInput {
  @Field(() => String, { nullable: true, description: 'a label for operators' }) name?: string | null;
  @Field(() => String, {
    description: 'non-empty, at most 1000 characters, billed as at most MAX_SEGMENTS SMS; may hold {{name}} and {{attributes.key}}, with a default as {{name|friend}}',
  })
  text!: string;
  @Field(() => GraphQLDateTime) startAt!: Date;
  @Field(() => GraphQLDateTime, { description: 'after startAt and in the future' }) endAt!: Date;
  @Field(() => ClientFilterInput, { nullable: true, description: 'absent: every client' })
  filter?: ClientFilterInput | null;
  @Field(() => SendWindowInput, { nullable: true, description: 'absent: any time of day' })
  sendWindow?: SendWindowInput | null;
  @Field(() => String, { nullable: true, description: 'at most that many messages to one client in the window, e.g. 2/24h; absent: FREQUENCY_CAP' })
  frequencyCap?: string | null;
  @Field(() => Float, { nullable: true, description: 'pause by itself when more than this share (0.001–1) of its last results failed; absent: MAX_FAILURE_RATE' })
  maxFailureRate?: number | null;
}

@InputType({ description: 'Every field is optional; absent fields keep their value.' })
export class UpdateMailingInput {
  @Field(() => String, { nullable: true, description: 'null or empty removes it' }) name?: string | null;
  @Field(() => String, { nullable: true }) text?: string | null;
  @Field(() => GraphQLDateTime, { nullable: true }) startAt?: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true }) endAt?: Date | null;
  @Field(() => ClientFilterInput, { nullable: true }) filter?: ClientFilterInput | null;
  @Field(() => SendWindowInput, { nullable: true, description: 'null removes the window' })
  sendWindow?: SendWindowInput | null;
  @Field(() => String, { nullable: true, description: 'null: FREQUENCY_CAP again' }) frequencyCap?: string | null;
  @Field(() => Float, { nullable: true, description: 'null: MAX_FAILURE_RATE again' }) maxFailureRate?: number | null;
}
