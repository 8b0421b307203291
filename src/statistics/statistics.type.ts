import { Field, Int, ObjectType } from 'type-graphql';
import { MessageStats } from '../messages/message.type';

@ObjectType({ description: 'Figures over every mailing; per-mailing figures are on Mailing.stats.' })
export class Statistics {
  @Field(() => Int) mailingCount!: number;
  @Field(() => MessageStats) messages!: MessageStats;
}

@ObjectType({ description: 'One UTC day of messages: sent (accepted by a provider) that day, delivered that day (by receipt), failed that day.' })
export class DayFigures {
  @Field(() => String, { description: 'the UTC day, YYYY-MM-DD' }) day!: string;
  @Field(() => Int) sent!: number;
  @Field(() => Int) delivered!: number;
  @Field(() => Int) failed!: number;
}
