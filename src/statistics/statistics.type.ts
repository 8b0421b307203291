import { Field, Int, ObjectType } from 'type-graphql';
import { MessageStats } from '../messages/message.type';

@ObjectType({ description: 'Figures over every mailing; per-mailing figures are on Mailing.stats.' })
export class Statistics {
  @Field(() => Int) mailingCount!: number;
  @Field(() => MessageStats) messages!: MessageStats;
}
