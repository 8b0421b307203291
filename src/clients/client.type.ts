import { GraphQLDateTime, GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { connectionType } from '../api/connection';

export const TagMatch = { ANY: 'ANY', ALL: 'ALL' } as const;
registerEnumType(TagMatch, {
  name: 'TagMatch',
  description: 'How a filter\'s tags match a client\'s: ANY of them (default) or ALL of them.',
});

@ObjectType({ description: 'A phone in the directory that mailings can reach.' })
export class Client {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: '7 followed by 10 digits' }) phone!: string;
  @Field(() => String, { description: 'mobile operator code, 3 digits' }) operatorCode!: string;
  @Field(() => [String]) tags!: string[];
  @Field(() => String, { description: 'IANA time zone name' }) timezone!: string;
  @Field(() => String, { nullable: true, description: 'for {{name}} in texts' }) name!: string | null;
  @Field(() => GraphQLJSONObject, { description: 'for {{attributes.key}} in texts' }) attributes!: Record<string, string>;
  @Field(() => GraphQLDateTime) createdAt!: Date;
  @Field(() => GraphQLDateTime) updatedAt!: Date;
}

@ObjectType({ description: 'Which clients a mailing is for. Empty lists match everyone.' })
export class ClientFilter {
  @Field(() => [String]) operatorCodes!: string[];
  @Field(() => [String]) tags!: string[];
  @Field(() => TagMatch) tagMatch!: keyof typeof TagMatch;
}

export const ClientConnection = connectionType(Client, 'Client');

@ObjectType({ description: 'A row of importClients that was not imported.' })
export class ImportRowError {
  @Field(() => Int, { description: 'its position in the input list, from 0' }) index!: number;
  @Field(() => String, { description: 'BAD_USER_INPUT or CONFLICT' }) code!: string;
  @Field(() => String, { nullable: true }) field!: string | null;
  @Field(() => String) message!: string;
}

@ObjectType()
export class ImportResult {
  @Field(() => Int) imported!: number;
  @Field(() => Int) failed!: number;
  @Field(() => [ImportRowError], { description: 'one per row not imported, in input order' }) errors!: ImportRowError[];
}

@ObjectType({ description: 'The client directory changed (a client created, updated, deleted or imported): counts and pages of clients may differ.' })
export class ClientsChange {
  @Field(() => GraphQLDateTime) at!: Date;
}
