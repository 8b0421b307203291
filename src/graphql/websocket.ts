import type { Server } from 'node:http';
import type { ExecutionArgs, GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Principal } from '../auth/tokens';
import { RateLimitedError } from '../common/errors';
import type { Logger } from '../logger';
import type { Context } from '../api/context';
import { toGraphQLError } from './errors';
import type { OperationGate, OperationRecord } from './gate';
import { fanoutKey, SubscriptionFanout, type FanoutObserver, type FanoutSubscriber } from './subscription.fanout';

export type WebsocketLimits = {
  maxConnectionsPerToken: number;
  maxSubscriptions: number;
  initTimeoutMs: number;
  maxMessagesPerSecond: number;
  maxPayloadBytes: number;
  maxBufferedBytes: number;
  liveFramesPerSecond: number;
};

/**
 * Close codes Herald sends besides graphql-ws's own (4400 bad message, 4408 no
 * `connection_init` in time, 4409 a subscription id reused): 4401 no or a bad token; 4403 a
 * token that grants no role, or whose validity has ended (a client that passes
 * connectionParams as a function reconnects with a fresh one: graphql-ws retries 4403);
 * 4429 too many connections for one token, too many messages a second, or too many failed
 * authentications from the address (graphql-ws does not retry 4429).
 */
export const CLOSE = { unauthorized: CloseCode.Unauthorized, forbidden: CloseCode.Forbidden, tooMany: 4429 } as const;

type Extra = { principal?: Principal; operations?: Map<string, OperationRecord> };

const operationsOf = (extra: Extra) => (extra.operations ??= new Map());

// setTimeout's longest delay; a token valid for longer than 24 days is not closed on time.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * GraphQL over graphql-ws on `/graphql` of the HTTP server, through the same gate as HTTP:
 * the origin at the upgrade, the token at `connection_init` (within WS_INIT_TIMEOUT_MS),
 * the limits per token and per connection, then the limits, validation, access, budget,
 * masking and logging per operation. Subscriptions of one operation share one execution
 * (subscription.fanout.ts). Returns the function that closes every socket.
 */
export function startWebsocketTransport(
  server: Server,
  schema: GraphQLSchema,
  gate: OperationGate,
  limits: WebsocketLimits,
  contextFor: (principal: Principal) => Context,
  log: Logger,
  fanoutObserver?: FanoutObserver,
): { dispose: () => void | Promise<void> } {
  const wsServer = new WebSocketServer({
    server,
    path: '/graphql',
    // Frames are read whole before anything looks at them: this bounds one before authentication too.
    maxPayload: limits.maxPayloadBytes,
    verifyClient: ({ origin, req }, done) => done(gate.admitOrigin('websocket', origin || undefined, req.headers.host), 403, 'Forbidden'),
  });
  // Before useServer's own listener, so that a flooding socket is closed before its message is handled.
  wsServer.on('connection', (socket) => limitMessageRate(socket, limits.maxMessagesPerSecond));
  const connections = new Map<string, number>();
  const finish = (extra: Extra, id: string, errors?: readonly GraphQLFormattedError[]) => {
    const record = operationsOf(extra).get(id);
    if (!record) return;
    operationsOf(extra).delete(id);
    record.noteErrors(errors);
    record.finish();
  };
  const mask = (errors: readonly { toJSON(): GraphQLFormattedError }[]) => errors.map((e) => gate.mask(e.toJSON(), e));
  const fanout = new SubscriptionFanout({ log, mask, maxBufferedBytes: limits.maxBufferedBytes, framesPerSecond: limits.liveFramesPerSecond, observer: fanoutObserver });
  // What `subscribe` needs of the graphql-ws subscription its arguments came from (onSubscribe made them).
  const sharing = new WeakMap<ExecutionArgs, { key: string; subscriber: FanoutSubscriber; principal: Principal }>();

  return useServer<Record<string, unknown>, Extra>(
    {
      connectionInitWaitTimeout: limits.initTimeoutMs,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        let principal: Principal;
        try {
          principal = await gate.authenticate('websocket', authorizationOf(ctx.connectionParams), ctx.extra.request.socket.remoteAddress);
        } catch (error) {
          const code = (error as GraphQLError).extensions?.code;
          if (code === 'RATE_LIMITED') socket.close(CLOSE.tooMany, 'Too many failed authentications');
          else if (code === 'FORBIDDEN') socket.close(CLOSE.forbidden, 'Forbidden: the token grants no role');
          else socket.close(CLOSE.unauthorized, 'Unauthorized');
          return false;
        }
        // Gone while its token was being verified (an issuer's keys fetched): nothing to count.
        if (socket.readyState !== socket.OPEN) return false;
        const open = connections.get(principal.id) ?? 0;
        if (open >= limits.maxConnectionsPerToken) {
          socket.close(CLOSE.tooMany, `Too many connections for this token (at most ${limits.maxConnectionsPerToken})`);
          return false;
        }
        connections.set(principal.id, open + 1);
        const expiresInMs = principal.expiresAt === undefined ? undefined : Math.min(MAX_TIMER_MS, Math.max(0, principal.expiresAt - Date.now()));
        const expiry = expiresInMs === undefined ? undefined : setTimeout(() => socket.close(CLOSE.forbidden, 'Token expired'), expiresInMs);
        socket.once('close', () => {
          clearTimeout(expiry);
          const left = (connections.get(principal.id) ?? 1) - 1;
          if (left > 0) connections.set(principal.id, left);
          else connections.delete(principal.id);
        });
        ctx.extra.principal = principal;
        // The upgrade request (its headers, its stream state) is not needed again: not kept for the socket's life.
        delete (ctx.extra as { request?: unknown }).request;
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const principal = ctx.extra.principal!;
        const record = gate.begin('websocket', principal);
        record.name = payload.operationName ?? null;
        if (operationsOf(ctx.extra).size >= limits.maxSubscriptions) {
          const refusal = toGraphQLError(new RateLimitedError(`at most ${limits.maxSubscriptions} operations at once on one connection (WS_MAX_SUBSCRIPTIONS)`, { limit: limits.maxSubscriptions }));
          record.noteErrors([refusal]);
          record.finish();
          return [refusal];
        }
        operationsOf(ctx.extra).set(id, record);
        const prepared = await gate.prepare(principal, payload.query, payload.operationName, payload.variables);
        if (Array.isArray(prepared)) return prepared;
        record.type = prepared.operation;
        record.admitted();
        const args: ExecutionArgs = { schema, document: prepared.document, variableValues: payload.variables, operationName: payload.operationName };
        if (prepared.operation !== 'subscription') return { ...args, contextValue: contextFor(principal) };
        // A subscription's context is made by the fan-out, for the one subscriber that starts an execution.
        args.contextValue = null;
        const subscriber = { socket: ctx.extra.socket, id, record };
        sharing.set(args, { key: fanoutKey(principal.role, payload.query, payload.operationName, payload.variables), subscriber, principal });
        return args;
      },
      // graphql-ws hands back the arguments onSubscribe returned, with its own additions.
      subscribe: (args) => {
        const shared = sharing.get(args)!;
        // graphql-ws keeps the arguments for the subscription's life; the key and the rest need not be kept with them.
        sharing.delete(args);
        return fanout.subscribe(shared.key, args, shared.subscriber, () => contextFor(shared.principal));
      },
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
 * Closes a socket that sends more than `perSecond` messages within a second (4429): a
 * client that floods costs one close, not a parse of every frame it sends after.
 */
function limitMessageRate(socket: WebSocket, perSecond: number): void {
  let windowStart = Date.now();
  let count = 0;
  socket.on('message', () => {
    const now = Date.now();
    if (now - windowStart >= 1_000) {
      windowStart = now;
      count = 0;
    }
    if (++count === perSecond + 1) {
      socket.close(CLOSE.tooMany, 'Too many messages');
      // Nothing more it sends is read.
      socket.pause();
      // A client that does not answer the close is not waited for.
      setTimeout(() => socket.terminate(), 1_000).unref();
    }
  });
}

/**
 * `authorization` from connectionParams, whatever its case: graphql-ws clients usually send
 * `authorization`, while GraphiQL sends the headers of its Headers tab (`Authorization`).
 */
function authorizationOf(params: Record<string, unknown> | undefined): unknown {
  const key = Object.keys(params ?? {}).find((k) => k.toLowerCase() === 'authorization');
  return key === undefined ? undefined : params![key];
}
