import { isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { ServiceUnavailableError } from '../common/errors';

export type AvailabilityGuard = {
  /** null while the database answers; else why not (DatabaseMonitor.problem) */
  databaseProblem: () => string | null;
  /** every query or mutation is answered within this, at the latest */
  requestTimeoutMs: number;
  /** told when the database stops answering (DatabaseMonitor.onDown) */
  onDatabaseDown?: (listener: (problem: string) => void) => unknown;
};

/**
 * Two bounds on every GraphQL operation, over HTTP and websocket alike (they share the
 * schema), applied by wrapping the schema's resolvers once:
 * - while the database does not answer, a query or mutation is refused at its first field
 *   with SERVICE_UNAVAILABLE, at once, instead of waiting on a connection; and one that was
 *   already waiting when the database stopped answering is answered so then (it may be
 *   waiting for a connection that will only time out);
 * - an operation's fields that are still waiting `requestTimeoutMs` after it began (a
 *   paused or partitioned database keeps a query waiting with no error) fail with
 *   SERVICE_UNAVAILABLE, so the answer goes out then, whatever still waits behind it.
 * The deadline is counted from the first field of a context that had to wait (the root
 * field, in practice); a subscription's
 * events each get a context of their own (eventContext), so each event has its own.
 * Only a resolver that returns a promise is raced: plain fields cost one check.
 */
export function guardSchema(schema: GraphQLSchema, guard: AvailabilityGuard): GraphQLSchema {
  const startedAt = new WeakMap<object, number>();
  // What waits now, to be answered at once should the database stop answering.
  const waiting = new Set<(error: Error) => void>();
  guard.onDatabaseDown?.((problem) => {
    const error = new ServiceUnavailableError(`the database does not answer: ${problem}`);
    for (const fail of [...waiting]) fail(error);
  });
  // A timer per waiting field, cleared as soon as it settles: one promise shared by every
  // field of a request would hold each field's result until the deadline had passed.
  const withinDeadline = (context: object, result: Promise<unknown>): Promise<unknown> => {
    let started = startedAt.get(context);
    if (started === undefined) startedAt.set(context, (started = Date.now()));
    const left = started + guard.requestTimeoutMs - Date.now();
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        waiting.delete(fail);
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new ServiceUnavailableError(`the operation took longer than ${guard.requestTimeoutMs} ms (GRAPHQL_REQUEST_TIMEOUT_MS); the database may be slow or away`)),
        Math.max(0, left),
      );
      waiting.add(fail);
      result.then(
        (value) => {
          clearTimeout(timer);
          waiting.delete(fail);
          resolve(value);
        },
        (error: unknown) => fail(error as Error),
      );
    });
  };

  const roots = new Set([schema.getQueryType(), schema.getMutationType()].filter((t) => t !== null && t !== undefined));
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    const isRoot = roots.has(type);
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve;
      if (!resolve) continue;
      const guarded: GraphQLFieldResolver<unknown, object> = (source, args, context, info) => {
        if (isRoot) {
          const problem = guard.databaseProblem();
          if (problem) throw new ServiceUnavailableError(`the database does not answer: ${problem}`);
        }
        const result = resolve(source, args, context, info);
        return isPromise(result) ? withinDeadline(context, result) : result;
      };
      field.resolve = guarded as typeof field.resolve;
    }
  }
  return schema;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
