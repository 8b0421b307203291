import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { GraphQLDateTime } from 'graphql-scalars';

/**
 * The DateTime scalar, refusing a date and time without an offset with a message that names
 * the expected form (graphql-scalars only says "invalid date-time-string"): "10:00" alone is
 * 10:00 where? Herald does not guess the zone. Patched on graphql-scalars' own instance rather
 * than replaced, so that every type that imports GraphQLDateTime keeps the one DateTime.
 */
export const EXPECTED_DATE_TIME = 'a date and time with an offset, e.g. 2027-01-02T10:00:00Z or 2027-01-02T10:00:00+03:00';

// A date, or a date and time, with nothing after the time: no Z, no ±hh:mm.
const WITHOUT_OFFSET = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/;

function refuseWithoutOffset(value: unknown): void {
  if (typeof value === 'string' && WITHOUT_OFFSET.test(value.trim())) {
    throw new GraphQLError(`DateTime "${value}" has no offset: expected ${EXPECTED_DATE_TIME}`);
  }
}

const parseValue = GraphQLDateTime.parseValue.bind(GraphQLDateTime);
const parseLiteral = GraphQLDateTime.parseLiteral.bind(GraphQLDateTime);
const scalar = GraphQLDateTime as { parseValue: (v: unknown) => unknown; parseLiteral: (node: ValueNode, variables?: Record<string, unknown> | null) => unknown };
scalar.parseValue = (value) => {
  refuseWithoutOffset(value);
  return parseValue(value);
};
scalar.parseLiteral = (node, variables) => {
  if (node.kind === Kind.STRING) refuseWithoutOffset(node.value);
  return parseLiteral(node, variables);
};

export { GraphQLDateTime };
