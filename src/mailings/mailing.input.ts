import { GraphQLDateTime } from 'graphql-scalars';
import { Field, InputType } from 'type-graphql';
import { ClientFilterInput } from '../clients/client.input';

@InputType({ description: 'A daily window in each client\'s local time; from > to wraps midnight.' })
export class SendWindowInput {
  @Field(() => String, { description: 'HH:MM, e.g. 09:00' }) from!: string;
  @Field(() => String, { description: 'HH:MM, e.g. 21:00' }) to!: string;
}

@InputType()
export class CreateMailingInput {
  @Field(() => String, { description: 'non-empty, at most 1000 characters' }) text!: string;
  @Field(() => GraphQLDateTime) startAt!: Date;
  @Field(() => GraphQLDateTime, { description: 'after startAt and in the future' }) endAt!: Date;
  @Field(() => ClientFilterInput, { nullable: true, description: 'absent: every client' })
  filter?: ClientFilterInput | null;
  @Field(() => SendWindowInput, { nullable: true, description: 'absent: any time of day' })
  sendWindow?: SendWindowInput | null;
}

@InputType({ description: 'Every field is optional; absent fields keep their value.' })
export class UpdateMailingInput {
  @Field(() => String, { nullable: true }) text?: string | null;
  @Field(() => GraphQLDateTime, { nullable: true }) startAt?: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true }) endAt?: Date | null;
  @Field(() => ClientFilterInput, { nullable: true }) filter?: ClientFilterInput | null;
  @Field(() => SendWindowInput, { nullable: true, description: 'null removes the window' })
  sendWindow?: SendWindowInput | null;
}
