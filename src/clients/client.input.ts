import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, InputType } from 'type-graphql';
import { TagMatch } from './client.type';

@InputType()
export class CreateClientInput {
  @Field(() => String, { description: '7 followed by 10 digits, e.g. 79161234567' }) phone!: string;
  @Field(() => String, { nullable: true, description: '3 digits; defaults to the phone\'s digits 2–4' })
  operatorCode?: string | null;
  @Field(() => [String], { nullable: true, description: 'trimmed and deduplicated; at most 20, each ≤ 32 characters' })
  tags?: string[] | null;
  @Field(() => String, { description: 'IANA time zone name, e.g. Europe/Moscow' }) timezone!: string;
  @Field(() => String, { nullable: true, description: 'for {{name}} in texts; at most 64 characters' }) name?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'for {{attributes.key}} in texts: at most 20 strings of at most 64 characters' })
  attributes?: Record<string, unknown> | null;
}

@InputType({ description: 'Every field is optional; absent fields keep their value.' })
export class UpdateClientInput {
  @Field(() => String, { nullable: true }) phone?: string | null;
  @Field(() => String, { nullable: true }) operatorCode?: string | null;
  @Field(() => [String], { nullable: true }) tags?: string[] | null;
  @Field(() => String, { nullable: true }) timezone?: string | null;
  @Field(() => String, { nullable: true, description: 'null or empty removes it' }) name?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'replaces them all' }) attributes?: Record<string, unknown> | null;
}

@InputType({ description: 'Empty or absent lists match everyone.' })
export class ClientFilterInput {
  @Field(() => [String], { nullable: true, description: 'operator code is any of these' })
  operatorCodes?: string[] | null;
  @Field(() => [String], { nullable: true }) tags?: string[] | null;
  @Field(() => TagMatch, { nullable: true, description: 'default ANY' }) tagMatch?: keyof typeof TagMatch | null;
}
