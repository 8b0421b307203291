import { Field, Int, ObjectType, type ClassType } from 'type-graphql';

/** The GraphQL shape of a page (common/page.ts builds the values). */
@ObjectType()
export class PageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

/** Relay connection types for a node type: `<Name>Edge` and `<Name>Connection`. */
export function connectionType<T extends object>(Node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String) cursor!: string;
    @Field(() => Node) node!: T;
  }
  @ObjectType(`${name}Connection`)
  class Connection {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    // A lazy PromiseLike on the source object (see common/page.ts toPage): pages that don't
    // select totalCount never pay for a count.
    @Field(() => Int) totalCount!: number;
  }
  return Connection;
}
