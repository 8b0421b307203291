import { GraphQLDateTime } from 'graphql-scalars';
import { Field, InputType } from 'type-graphql';
import { ClientFilterInput } from '../clients/client.input';

@InputType()
export class CreateMailingInput {
  @Field(() => String, { description: 'non-empty, at most 1000 characters' }) text!: string;
  @Field(() => GraphQLDateTime) startAt!: Date;
  @Field(() => GraphQLDateTime, { description: 'after startAt and in the future' }) endAt!: Date;
  @Field(() => ClientFilterInput, { nullable: true, description: 'absent: every client' })
  filter?: ClientFilterInput | null;
}

@InputType({ description: 'Every field is optional; absent fields keep their value.' })
export class UpdateMailingInput {
  @Field(() => String, { nullable: true }) text?: string | null;
  @Field(() => GraphQLDateTime, { nullable: true }) startAt?: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true }) endAt?: Date | null;
  @Field(() => ClientFilterInput, { nullable: true }) filter?: ClientFilterInput | null;
}
