import type { Server } from 'node:http';
import {
  createSourceEventStream,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/tokens';
import { eventContext, type Context } from './context';
import type { OperationGate, OperationRecord } from './gate';

type Extra = { principal?: Principal; operations?: Map<string, OperationRecord> };

const operationsOf = (extra: Extra) => (extra.operations ??= new Map());

/**
 * GraphQL over graphql-ws on `/graphql` of the HTTP server, through the same gate as HTTP:
 * the origin at the upgrade, the token at `connection_init`, then parsing, validation,
 * access, masking and logging per operation. Returns the function that closes every socket.
 */
export function startWebsocketTransport(
  server: Server,
  schema: GraphQLSchema,
  gate: OperationGate,
  contextFor: (principal: Principal) => Context,
): { dispose: () => void | Promise<void> } {
  const wsServer = new WebSocketServer({
    server,
    path: '/graphql',
    verifyClient: ({ origin, req }, done) => done(gate.admitOrigin('websocket', origin || undefined, req.headers.host), 403, 'Forbidden'),
  });
  const finish = (extra: Extra, id: string, errors?: readonly GraphQLFormattedError[]) => {
    const record = operationsOf(extra).get(id);
    if (!record) return;
    operationsOf(extra).delete(id);
    record.noteErrors(errors);
    record.finish();
  };
  const mask = (errors: readonly { toJSON(): GraphQLFormattedError }[]) => errors.map((e) => gate.mask(e.toJSON(), e));

  return useServer<Record<string, unknown>, Extra>(
    {
      onConnect: (ctx) => {
        try {
          ctx.extra.principal = gate.authenticate('websocket', authorizationOf(ctx.connectionParams));
          return true;
        } catch {
          ctx.extra.socket.close(4401, 'Unauthorized');
          return false;
        }
      },
      onSubscribe: (ctx, id, payload) => {
        const principal = ctx.extra.principal!;
        const record = gate.begin('websocket', principal);
        record.name = payload.operationName ?? null;
        operationsOf(ctx.extra).set(id, record);
        const prepared = gate.prepare(principal, payload.query, payload.operationName);
        if (Array.isArray(prepared)) return prepared;
        record.type = prepared.operation;
        record.admitted();
        return {
          schema,
          document: prepared.document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue: contextFor(principal),
        };
      },
      subscribe: subscribeWithEventContexts,
      onNext: (ctx, id, _payload, _args, result) => {
        if (!result.errors) return;
        const errors = mask(result.errors);
        operationsOf(ctx.extra).get(id)?.noteErrors(errors);
        return { ...result, errors };
      },
      onError: (ctx, id, _payload, errors) => {
        const masked = mask(errors);
        finish(ctx.extra, id, masked);
        return masked;
      },
      onComplete: (ctx, id) => finish(ctx.extra, id),
    },
    wsServer,
  );
}

/**
 * `authorization` from connectionParams, whatever its case: graphql-ws clients usually send
 * `authorization`, while GraphiQL sends the headers of its Headers tab (`Authorization`).
 */
function authorizationOf(params: Record<string, unknown> | undefined): unknown {
  const key = Object.keys(params ?? {}).find((k) => k.toLowerCase() === 'authorization');
  return key === undefined ? undefined : params![key];
}

/**
 * graphql-js's `subscribe`, except that each event is executed with a context of its own
 * (see eventContext), so that what a subscription's payload reads through the loaders is
 * read at that event, not cached since the first one. `return()` goes straight to the
 * source, so a quiet subscription is released at once when its client leaves.
 */
async function subscribeWithEventContexts(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const events = source[Symbol.asyncIterator]();
  const done = async (): Promise<IteratorReturnResult<undefined>> => {
    await events.return?.();
    return { done: true, value: undefined };
  };
  const results: AsyncGenerator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => results,
    next: async () => {
      const event = await events.next();
      if (event.done) return { done: true, value: undefined };
      return { done: false, value: await execute({ ...args, rootValue: event.value, contextValue: eventContext(args.contextValue as Context) }) };
    },
    return: done,
    throw: async (error) => {
      await done();
      throw error;
    },
  };
  return results;
}
