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
  /** snapshot frames written a second, over every execution (WS_LIVE_FRAMES_PER_SECOND) */
  framesPerSecond: number;
  observer?: FanoutObserver;
};

/** How often a socket that was skipped is looked at again, to send it the latest snapshot once it has drained. */
const CATCH_UP_MS = 100;
/**
 * Sockets written to between two turns of the event loop: one event to 10,000 sockets is
 * ~0.3 s of writes (a system call each), and HTTP requests and new sockets are not to wait
 * behind all of it.
 */
const WRITES_PER_TURN = 500;

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
 * a stream of snapshots (mailingProgress, statisticsChanged, providersChanged) gets its latest result at
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
 * What costs is the write to each socket (a system call, and the kernel's delivery: ~30 µs
 * each on the bench's machine), so snapshot streams are spaced by their audience: all
 * together they write at most `framesPerSecond` frames a second. An execution pulls its next
 * event no sooner than (snapshot subscribers of the process) ÷ framesPerSecond after the last
 * one, and then gets the newest snapshot (the source keeps only that), so what it sends is as
 * fresh as ever, only less often: 10,000 dashboards on one mailing get one every 2 s (at 5,000), a
 * few dozen get every one LIVE_INTERVAL_MS allows. Feeds are never spaced: they would lose events.
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

  /** How long a snapshot execution waits between two events, for all of them to stay within framesPerSecond. */
  spacingMs(): number {
    let audience = 0;
    for (const execution of this.executions.values()) if (execution.snapshots) audience += execution.members.size;
    return (audience / this.opts.framesPerSecond) * 1000;
  }

  /**
   * graphql-ws's `subscribe` for one subscriber: an iterator that yields nothing (the frames
   * are written for it) and ends when the execution ends, or the errors the execution
   * started with (graphql-ws sends them as for an unshared operation).
   */
  subscribe(key: string, args: ExecutionArgs, subscriber: FanoutSubscriber, contextFor: () => Context): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
    let execution = this.executions.get(key);
    if (!execution) {
      // The context of the one who starts it; a joiner's would never be read, so none is made for it.
      const created: SharedExecution = new SharedExecution(this, this.opts, { ...args, contextValue: contextFor() }, () => {
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
  snapshots = false;
  private events: AsyncIterator<unknown> | null = null;
  /** the errors it started with, or null once it streams */
  private started: Promise<ExecutionResult | null> = Promise.resolve(null);
  private ended = false;
  private readonly behind = new Set<Member>();
  private catchUp: NodeJS.Timeout | undefined;
  /** for its log line at the end: events published, and how long writing one to every socket took */
  private published = { events: 0, totalMs: 0, maxMs: 0 };

  constructor(
    private readonly fanout: SubscriptionFanout,
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
        const published = performance.now();
        await this.publish(result);
        const ms = performance.now() - published;
        this.published = { events: this.published.events + 1, totalMs: this.published.totalMs + ms, maxMs: Math.max(this.published.maxMs, ms) };
        // The source keeps the newest snapshot meanwhile: waiting loses only intermediate ones.
        if (this.snapshots) {
          const wait = this.fanout.spacingMs() - (performance.now() - published);
          if (wait > 1 && !this.ended) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
      this.finish(undefined);
    } catch (error) {
      this.finish(error);
    }
  }

  private async publish(result: ExecutionResult): Promise<void> {
    const errors = result.errors ? this.opts.mask(result.errors) : undefined;
    // Serialised once for every subscriber; masked errors are already plain objects.
    const payload = JSON.stringify(errors ? { ...result, errors } : result);
    this.latest = payload;
    let written = 0;
    for (const member of [...this.members]) {
      // Left while the loop yielded (no frame after its `complete`).
      if (!this.members.has(member)) continue;
      if (errors) member.subscriber.record.noteErrors(errors);
      this.deliver(member, payload);
      if (++written % WRITES_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
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
    const { events, totalMs, maxMs } = this.published;
    this.opts.log.info(
      { operationName: this.args.operationName ?? null, subscribers: this.members.size, events, publishMeanMs: events ? Math.round(totalMs / events) : null, publishMaxMs: Math.round(maxMs) },
      'live execution ended',
    );
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
