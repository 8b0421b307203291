import { type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { checkArgumentText } from '../common/text';

/**
 * The one check of every string argument of every query and mutation for control
 * characters (common/text.ts says which may hold line breaks, and which are checked row by
 * row by their service), before any resolver runs: a NUL byte is BAD_USER_INPUT naming the
 * field, never a failed statement (INTERNAL_SERVER_ERROR) that changed nothing or, worse,
 * took good rows down with it. Applied by wrapping the root fields' resolvers once, so it
 * holds over HTTP and websocket alike.
 */
export function checkInputText(schema: GraphQLSchema): GraphQLSchema {
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    if (!root) continue;
    for (const field of Object.values(root.getFields())) {
      const resolve = field.resolve;
      if (!resolve || field.args.length === 0) continue;
      const checked: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
        checkArgumentText(info.fieldName, args);
        return resolve(source, args, context, info);
      };
      field.resolve = checked as typeof field.resolve;
    }
  }
  return schema;
}
