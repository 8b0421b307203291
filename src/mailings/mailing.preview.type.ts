import { Field, Int, ObjectType } from 'type-graphql';
import { Segments } from './mailing.type';

@ObjectType({ description: 'A text as it would go to one client, and how it would be billed.' })
export class MailingPreview {
  @Field(() => String) text!: string;
  @Field(() => Segments) segments!: Segments;
}

@ObjectType({ description: 'How Herald would bill a text for a mailing, measured with every placeholder at its longest.' })
export class TextMeasure {
  @Field(() => Segments) segments!: Segments;
  @Field(() => Int, { description: 'the placeholders in the text' }) placeholders!: number;
  @Field(() => Int, { description: 'the length a placeholder is measured at: the longest name or attribute value, or its default if longer' })
  placeholderLength!: number;
  @Field(() => Int, { description: 'the most parts a mailing text may take (MAX_SEGMENTS); createMailing refuses more' })
  maxSegments!: number;
}
