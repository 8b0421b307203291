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

@ObjectType({ description: "What a mailing's text would cost its audience, rendered for the clients' real names and attributes." })
export class MailingEstimate {
  @Field(() => Int, { description: 'clients the filter matches now, opt-outs left out' }) audience!: number;
  @Field(() => Int, { description: 'SMS parts for the whole audience, each client its own rendering' }) parts!: number;
  @Field(() => Int, { description: "parts of the median client's rendering" }) typicalParts!: number;
  @Field(() => Int, { description: 'parts of the longest rendering among the audience' }) longestParts!: number;
  @Field(() => Int, { description: 'parts with every placeholder at its longest value (what createMailing judges against MAX_SEGMENTS)' })
  worstCaseParts!: number;
  @Field(() => Boolean, {
    description: 'true: every distinct combination of values rendered; false (over 10,000 of them): counted by value lengths, a value outside plain ASCII as UCS-2 (an upper bound)',
  })
  exact!: boolean;
}
