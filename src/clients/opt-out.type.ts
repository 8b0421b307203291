import { GraphQLDateTime } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { connectionType } from '../api/connection';

@ObjectType({ description: 'A phone that asked to receive nothing: no mailing sends to it.' })
export class OptOut {
  @Field(() => ID) id!: string;
  @Field(() => String) phone!: string;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => GraphQLDateTime) optedOutAt!: Date;
}

export const OptOutConnection = connectionType(OptOut, 'OptOut');
