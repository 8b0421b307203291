import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { WebSocket } from 'ws';
import { eventContext, type Context } from '../api/context';
import { isSnapshotStream } from '../live/bounded-queue';
import { logRepeated, type Logger } from '../logger';

/** One graphql-ws subscription that a shared execution writes to. */
export type FanoutSubscriber = {
  socket: WebSocket;
  /** its graphql-ws subscription id */
  id: string;
  /** its operation's record (gate.ts), told of each result's errors (masked) for its log line */
  record: { noteErrors(errors: readonly GraphQLFormattedError[]): void };
};

/** Hears the fan-out (metrics): executions that start and end, events a slow socket is skipped for. */
export type FanoutObserver = {
  executionStarted(): void;
  executionEnded(): void;
  skipped(): void;
};

export type FanoutOptions = {
  log: Logger;
  /** what a client may see of each error (the gate's masking) */
  mask: (errors: readonly GraphQLError[]) => GraphQLFormattedError[];
  /** a socket with more than this written but unsent is skipped (WS_MAX_BUFFERED_BYTES) */
  maxBufferedBytes: number;
  observer?: FanoutObserver;
};

/** How often a socket that was skipped is looked at again, to send it the latest snapshot once it has drained. */
const CATCH_UP_MS = 100;

/**
 * What a subscription's result depends on besides the events: the document, the operation
 * in it, the variables and the role. No field reachable from Subscription reads more of the
 * principal than its role (`Mailing.actions` reads the role; `me` is a query, `pausedBy` is
 * data), so subscribers with different tokens of one role share an execution. A field that
 * starts to read the principal's id must add it here.
 */
export function fanoutKey(role: string, query: string, operationName: string | null | undefined, variables: unknown): string {
  return `${role}\n${operationName ?? ''}\n${JSON.stringify(variables ?? null)}\n${query}`;
}

/**
 * Subscriptions of one operation (see fanoutKey) share one execution: the first subscriber
 * starts it (createSourceEventStream, then `execute` per event, each event with loaders of
 * its own), each result is serialised once, and the graphql-ws `next` frame is written to
 * every subscriber's socket as it is, only the subscription id put around it. Whoever joins
 * a stream of snapshots (mailingProgress, statisticsChanged) gets its latest result at
 * once, so a thousand dashboards connecting at once cost no read each. The last one to
 * leave stops the execution (and so its source); its end or failure reaches all.
 *
 * Slow sockets: a socket with more than `maxBufferedBytes` written and not yet sent is not
 * written to (memory stays bounded by that per socket, whatever the rate of events). On a
 * stream of snapshots it only misses intermediate states: once it has drained it gets the
 * latest, and at the end the final one whatever its backlog. On a feed (messageStatusChanged,
 * mailingsChanged…) the events it was skipped for are lost, as a feed's bounded queue loses
 * its oldest; it is logged and counted (herald_live_skipped_total).
 *
 * The per-operation work of the gate (limits, access, budget, the log line) stays per
 * subscriber, at subscribe time (websocket.ts); here is only what all of them share.
 */
export class SubscriptionFanout {
  private readonly executions = new Map<string, SharedExecution>();

  constructor(private readonly opts: FanoutOptions) {}

  /** Executions running now (one per key with subscribers). */
  get size(): number {
    return this.executions.size;
  }

  /**
   * graphql-ws's `subscribe` for one subscriber: an iterator that yields nothing (the frames
   * are written for it) and ends when the execution ends, or the errors the execution
   * started with (graphql-ws sends them as for an unshared operation).
   */
  subscribe(key: string, args: ExecutionArgs, subscriber: FanoutSubscriber): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
    let execution = this.executions.get(key);
    if (!execution) {
      const created: SharedExecution = new SharedExecution(this.opts, args, () => {
        if (this.executions.get(key) === created) this.executions.delete(key);
      });
      this.executions.set(key, (execution = created));
      created.start();
    }
    return execution.join(new Member(subscriber, execution));
  }
}

class SharedExecution {
  readonly members = new Set<Member>();
  /** the latest result's serialised payload (null before the first) */
  latest: string | null = null;
  /** whether each event is a whole snapshot, which a late joiner is given */
  private snapshots = false;
  private events: AsyncIterator<unknown> | null = null;
  /** the errors it started with, or null once it streams */
  private started: Promise<ExecutionResult | null> = Promise.resolve(null);
  private ended = false;
  private readonly behind = new Set<Member>();
  private catchUp: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: FanoutOptions,
    private readonly args: ExecutionArgs,
    private readonly onEnd: () => void,
  ) {}

  start(): void {
    this.opts.observer?.executionStarted();
    this.opts.log.info({ operationName: this.args.operationName ?? null, role: (this.args.contextValue as Context).principal.role }, 'live execution started');
    this.started = this.open();
  }

  async join(member: Member): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
    // Counted before the source is open: a start whose subscribers have all left stops at once.
    this.members.add(member);
    const failed = await this.started;
    if (failed) {
      this.members.delete(member);
      return failed;
    }
    // Events published while it waited reached it already; a snapshot it has not seen is due.
    if (this.snapshots && this.latest !== null && member.sent !== this.latest && !this.ended) this.deliver(member, this.latest);
    return member;
  }

  leave(member: Member): void {
    if (!this.members.delete(member)) return;
    this.behind.delete(member);
    if (this.members.size === 0) this.stop();
  }

  private async open(): Promise<ExecutionResult | null> {
    let source: Awaited<ReturnType<typeof createSourceEventStream>>;
    try {
      source = await createSourceEventStream(this.args);
    } catch (error) {
      this.finish(error);
      throw error;
    }
    if (!(Symbol.asyncIterator in source)) {
      this.finish(undefined);
      return source;
    }
    this.snapshots = isSnapshotStream(source);
    this.events = source[Symbol.asyncIterator]();
    // Everyone left while the source was opening (its first snapshot read).
    if (this.members.size === 0) this.stop();
    else void this.pump();
    return null;
  }

  private async pump(): Promise<void> {
    const events = this.events!;
    try {
      for (;;) {
        const event = await events.next();
        if (event.done || this.ended) break;
        const result = await execute({ ...this.args, rootValue: event.value, contextValue: eventContext(this.args.contextValue as Context) });
        if (this.ended) break;
        this.publish(result);
      }
      this.finish(undefined);
    } catch (error) {
      this.finish(error);
    }
  }

  private publish(result: ExecutionResult): void {
    const errors = result.errors ? this.opts.mask(result.errors) : undefined;
    // Serialised once for every subscriber; masked errors are already plain objects.
    const payload = JSON.stringify(errors ? { ...result, errors } : result);
    this.latest = payload;
    for (const member of this.members) {
      if (errors) member.subscriber.record.noteErrors(errors);
      this.deliver(member, payload);
    }
  }

  /** Writes the frame unless the socket is behind; `force` writes it anyway (the final snapshot). */
  private deliver(member: Member, payload: string, force = false): void {
    const socket = member.subscriber.socket;
    // Closing: graphql-ws ends its subscriptions.
    if (socket.readyState !== socket.OPEN) return;
    if (!force && socket.bufferedAmount > this.opts.maxBufferedBytes) return this.skip(member);
    socket.send(`{"id":${member.quotedId},"type":"next","payload":${payload}}`);
    member.sent = payload;
  }

  private skip(member: Member): void {
    this.opts.observer?.skipped();
    logRepeated(
      this.opts.log,
      'warn',
      { operationName: this.args.operationName ?? null, maxBufferedBytes: this.opts.maxBufferedBytes, lost: !this.snapshots },
      this.snapshots ? 'slow websocket: skipping live events until it drains' : 'slow websocket: it loses the live events it is skipped for',
    );
    if (!this.snapshots) return;
    this.behind.add(member);
    this.catchUp ??= setTimeout(() => this.catchUpBehind(), CATCH_UP_MS);
  }

  /** The latest snapshot to each socket that missed one and has drained since. */
  private catchUpBehind(): void {
    this.catchUp = undefined;
    if (this.ended || this.latest === null) return;
    for (const member of [...this.behind]) {
      if (member.sent === this.latest || member.subscriber.socket.readyState !== member.subscriber.socket.OPEN) {
        this.behind.delete(member);
      } else if (member.subscriber.socket.bufferedAmount <= this.opts.maxBufferedBytes) {
        this.behind.delete(member);
        this.deliver(member, this.latest);
      }
    }
    if (this.behind.size > 0) this.catchUp = setTimeout(() => this.catchUpBehind(), CATCH_UP_MS);
  }

  /** The last subscriber left: the source is released (its watch stops reading). */
  private stop(): void {
    this.finish(undefined);
    void this.events?.return?.();
  }

  private finish(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.catchUp);
    this.onEnd();
    this.opts.observer?.executionEnded();
    this.opts.log.info({ operationName: this.args.operationName ?? null, subscribers: this.members.size }, 'live execution ended');
    // The final state matters most: a snapshot subscriber that fell behind gets it whatever its backlog.
    if (this.snapshots && this.latest !== null) for (const member of this.behind) if (member.sent !== this.latest) this.deliver(member, this.latest, true);
    this.behind.clear();
    for (const member of this.members) member.end(error);
    this.members.clear();
  }
}

/**
 * One subscriber's side of a shared execution, as graphql-ws iterates it: `next()` yields
 * nothing and settles when the execution ends (graphql-ws then sends `complete`, or `error`
 * for a failure); `return()` (the client completed, or its socket closed) leaves.
 */
class Member implements AsyncGenerator<ExecutionResult, undefined> {
  /** the payload last written to it (the shared string itself: a comparison, no copy) */
  sent: string | null = null;
  readonly quotedId: string;
  private outcome: { error: unknown } | null = null;
  private waiting: { resolve: (r: IteratorResult<ExecutionResult, undefined>) => void; reject: (e: unknown) => void } | null = null;

  constructor(
    readonly subscriber: FanoutSubscriber,
    private readonly execution: SharedExecution,
  ) {
    this.quotedId = JSON.stringify(subscriber.id);
  }

  end(error: unknown): void {
    if (this.outcome) return;
    this.outcome = { error };
    const waiting = this.waiting;
    this.waiting = null;
    if (!waiting) return;
    if (error === undefined) waiting.resolve({ done: true, value: undefined });
    else waiting.reject(error);
  }

  next(): Promise<IteratorResult<ExecutionResult, undefined>> {
    if (this.outcome) return this.outcome.error === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(this.outcome.error);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.execution.leave(this);
    this.end(undefined);
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(error: unknown): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.execution.leave(this);
    this.end(undefined);
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
