import { Field, ObjectType } from 'type-graphql';
import { Segments } from './mailing.type';

@ObjectType({ description: 'A text as it would go to one client, and how it would be billed.' })
export class MailingPreview {
  @Field(() => String) text!: string;
  @Field(() => Segments) segments!: Segments;
}
