import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { Context } from '../../src/api/context';
import { fanoutKey, SubscriptionFanout } from '../../src/graphql/subscription.fanout';
import { BoundedQueue } from '../../src/live/bounded-queue';
import { createLogger } from '../../src/logger';

// The fan-out on its own: a schema whose one subscription hands out the test's queues, and
// sockets that keep what is written to them.

type Source = { queue: BoundedQueue<{ n: number }>; closed: boolean };

function harness(opts: { snapshots: boolean; maxBufferedBytes?: number; framesPerSecond?: number }) {
  const sources: Source[] = [];
  const executions: number[] = [];
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLInt } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        tick: {
          type: new GraphQLObjectType({ name: 'Tick', fields: { n: { type: GraphQLInt }, role: { type: GraphQLString } } }),
          args: { topic: { type: GraphQLString } },
          subscribe: () => {
            const source: Source = { queue: new BoundedQueue(1, () => (source.closed = true)), closed: false };
            source.queue.snapshots = opts.snapshots;
            sources.push(source);
            return source.queue;
          },
          resolve: (event: { n: number }, _args, ctx: { principal: { role: string } }) => {
            executions.push(event.n);
            if (event.n < 0) throw new Error('a failing field');
            return { n: event.n, role: ctx.principal.role };
          },
        },
      },
    }),
  });
  const fanout = new SubscriptionFanout({
    log: createLogger('silent'),
    mask: (errors) => errors.map((e) => ({ message: 'masked', path: e.path })),
    maxBufferedBytes: opts.maxBufferedBytes ?? 1_000,
    framesPerSecond: opts.framesPerSecond ?? 1e9,
  });
  const query = 'subscription($topic: String) { tick(topic: $topic) { n role } }';
  let ids = 0;
  const join = async (role = 'admin', topic = 'a') => {
    const socket = new FakeSocket();
    const errors: unknown[] = [];
    const args: ExecutionArgs = { schema, document: parse(query), variableValues: { topic } };
    const id = `sub-${++ids}`;
    const context = () => ({ principal: { id, role } }) as unknown as Context;
    const result = await fanout.subscribe(fanoutKey(role, query, undefined, { topic }), args, { socket: socket as unknown as WebSocket, id, record: { noteErrors: (e) => errors.push(...e) } }, context);
    const iterator = result as AsyncGenerator<ExecutionResult>;
    // As graphql-ws does: it iterates until the end.
    let ended: 'complete' | 'error' | null = null;
    const done = (async () => {
      try {
        for await (const _ of iterator) throw new Error('the fan-out yields nothing: it writes the frames itself');
        ended = 'complete';
      } catch {
        ended = 'error';
      }
    })();
    return { socket, id, errors, done, ended: () => ended, leave: () => iterator.return(undefined) };
  };
  return { fanout, sources, executions, join };
}

class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: string[] = [];
  send(frame: string): void {
    this.frames.push(frame);
  }
  payloads(): unknown[] {
    return this.frames.map((f) => JSON.parse(f).payload);
  }
}

const tick = async () => new Promise((r) => setTimeout(r, 5));

describe('the subscription fan-out', () => {
  it('should run one execution for every subscriber of one operation and write each the same payload, framed with its own id', async () => {
    const h = harness({ snapshots: true });
    const subscribers = await Promise.all(Array.from({ length: 5 }, () => h.join()));
    expect(h.sources).toHaveLength(1);
    expect(h.fanout.size).toBe(1);
    h.sources[0].queue.push({ n: 1 });
    await tick();
    h.sources[0].queue.push({ n: 2 });
    await tick();
    expect(h.executions).toEqual([1, 2]);
    const payloadText = (frame: string) => frame.slice(frame.indexOf('"payload":'));
    for (const s of subscribers) {
      expect(s.socket.frames.map((f) => JSON.parse(f))).toEqual([
        { id: s.id, type: 'next', payload: { data: { tick: { n: 1, role: 'admin' } } } },
        { id: s.id, type: 'next', payload: { data: { tick: { n: 2, role: 'admin' } } } },
      ]);
      expect(s.socket.frames.map(payloadText)).toEqual(subscribers[0].socket.frames.map(payloadText));
    }
  });

  it('should give a subscriber that joins a stream of snapshots the latest at once, with no new execution', async () => {
    const h = harness({ snapshots: true });
    await h.join();
    h.sources[0].queue.push({ n: 7 });
    await tick();
    const late = await h.join();
    expect(late.socket.payloads()).toEqual([{ data: { tick: { n: 7, role: 'admin' } } }]);
    expect(h.sources).toHaveLength(1);
    expect(h.executions).toEqual([7]);
  });

  it('should give a subscriber that joins a feed only the events after it joined', async () => {
    const h = harness({ snapshots: false });
    const first = await h.join();
    h.sources[0].queue.push({ n: 1 });
    await tick();
    const late = await h.join();
    h.sources[0].queue.push({ n: 2 });
    await tick();
    expect(first.socket.payloads()).toHaveLength(2);
    expect(late.socket.payloads()).toEqual([{ data: { tick: { n: 2, role: 'admin' } } }]);
  });

  it('should run one execution per role and per variables', async () => {
    const h = harness({ snapshots: true });
    const [admin, viewer, other] = await Promise.all([h.join('admin'), h.join('viewer'), h.join('admin', 'b')]);
    expect(h.fanout.size).toBe(3);
    for (const source of h.sources) source.queue.push({ n: 1 });
    await tick();
    expect(admin.socket.payloads()).toEqual([{ data: { tick: { n: 1, role: 'admin' } } }]);
    expect(viewer.socket.payloads()).toEqual([{ data: { tick: { n: 1, role: 'viewer' } } }]);
    expect(other.socket.payloads()).toHaveLength(1);
  });

  it('should keep the execution for the others when one leaves, and stop it (and its source) when the last does', async () => {
    const h = harness({ snapshots: true });
    const [a, b] = await Promise.all([h.join(), h.join()]);
    await a.leave();
    await a.done;
    expect(a.ended()).toBe('complete');
    h.sources[0].queue.push({ n: 1 });
    await tick();
    expect(a.socket.frames).toHaveLength(0);
    expect(b.socket.payloads()).toHaveLength(1);
    expect(h.sources[0].closed).toBe(false);
    await b.leave();
    expect(h.sources[0].closed).toBe(true);
    expect(h.fanout.size).toBe(0);
    // The next subscriber starts afresh.
    await h.join();
    expect(h.sources).toHaveLength(2);
  });

  it('should skip a socket that is behind, give it the latest snapshot once it drains, and the final one at the end whatever its backlog', async () => {
    const h = harness({ snapshots: true, maxBufferedBytes: 1_000 });
    const [slow, fast] = await Promise.all([h.join(), h.join()]);
    slow.socket.bufferedAmount = 5_000;
    h.sources[0].queue.push({ n: 1 });
    await tick();
    h.sources[0].queue.push({ n: 2 });
    await tick();
    expect(fast.socket.payloads()).toHaveLength(2);
    expect(slow.socket.frames).toHaveLength(0);
    slow.socket.bufferedAmount = 0;
    await new Promise((r) => setTimeout(r, 150));
    expect(slow.socket.payloads()).toEqual([{ data: { tick: { n: 2, role: 'admin' } } }]);
    slow.socket.bufferedAmount = 5_000;
    h.sources[0].queue.push({ n: 3 });
    await tick();
    h.sources[0].queue.end();
    await Promise.all([slow.done, fast.done]);
    expect(slow.socket.payloads().at(-1)).toEqual({ data: { tick: { n: 3, role: 'admin' } } });
    expect([slow.ended(), fast.ended()]).toEqual(['complete', 'complete']);
  });

  it('should lose a feed\'s events for a socket that is behind, not the others\'', async () => {
    const h = harness({ snapshots: false, maxBufferedBytes: 1_000 });
    const [slow, fast] = await Promise.all([h.join(), h.join()]);
    slow.socket.bufferedAmount = 5_000;
    h.sources[0].queue.push({ n: 1 });
    await tick();
    slow.socket.bufferedAmount = 0;
    h.sources[0].queue.push({ n: 2 });
    await tick();
    expect(fast.socket.payloads()).toHaveLength(2);
    expect(slow.socket.payloads()).toEqual([{ data: { tick: { n: 2, role: 'admin' } } }]);
  });

  it('should mask a result\'s errors once and tell every subscriber\'s record of them', async () => {
    const h = harness({ snapshots: true });
    const [a, b] = await Promise.all([h.join(), h.join()]);
    h.sources[0].queue.push({ n: -1 });
    await tick();
    for (const s of [a, b]) {
      expect(s.socket.payloads()).toEqual([{ data: { tick: null }, errors: [{ message: 'masked', path: ['tick'] }] }]);
      expect(s.errors).toEqual([{ message: 'masked', path: ['tick'] }]);
    }
    expect(h.executions).toEqual([-1]);
  });

  it('should space a snapshot stream by its audience, sending the newest snapshot, and never a feed', async () => {
    // 4 subscribers at 20 frames a second: an event at most every 200 ms.
    const h = harness({ snapshots: true, framesPerSecond: 20 });
    const subscribers = await Promise.all(Array.from({ length: 4 }, () => h.join()));
    h.sources[0].queue.push({ n: 1 });
    await tick();
    for (let n = 2; n <= 5; n++) {
      h.sources[0].queue.push({ n });
      await tick();
    }
    expect(subscribers[0].socket.payloads()).toEqual([{ data: { tick: { n: 1, role: 'admin' } } }]);
    await new Promise((r) => setTimeout(r, 250));
    expect(subscribers[0].socket.payloads().map((p) => (p as { data: { tick: { n: number } } }).data.tick.n)).toEqual([1, 5]);
    const feed = harness({ snapshots: false, framesPerSecond: 20 });
    const reader = await feed.join();
    for (let n = 1; n <= 3; n++) {
      feed.sources[0].queue.push({ n });
      await tick();
    }
    expect(reader.socket.payloads()).toHaveLength(3);
  });

  it('should complete every subscriber when the source ends', async () => {
    const h = harness({ snapshots: false });
    const subscribers = await Promise.all([h.join(), h.join(), h.join()]);
    h.sources[0].queue.end();
    await Promise.all(subscribers.map((s) => s.done));
    expect(subscribers.map((s) => s.ended())).toEqual(['complete', 'complete', 'complete']);
    expect(h.fanout.size).toBe(0);
  });
});
