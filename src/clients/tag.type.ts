import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A tag some clients carry, and how many of them.' })
export class Tag {
  @Field(() => String) name!: string;
  @Field(() => Int, { description: 'clients carrying it now' }) clientCount!: number;
}
