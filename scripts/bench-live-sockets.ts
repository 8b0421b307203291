// One load generator process of `npm run bench -- --live` (scripts/bench.ts forks several, so
// that the sockets' cost is not the api's nor the bench's): it holds websockets to Herald, one
// graphql-ws subscription each (the protocol written by hand: a client library's per-socket
// state would be the generator's limit, not Herald's), and tells the bench over IPC what each
// received. Commands: `open` (sockets, their tokens and kinds), `report`, `close`.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export type SocketPlan = { token: string; kind: 'progress' | 'statistics' };
export type OpenCommand = { cmd: 'open'; url: string; sockets: SocketPlan[]; queries: Record<SocketPlan['kind'], string>; variables: Record<SocketPlan['kind'], Record<string, unknown>>; concurrency: number };
/** What one subscriber saw: times are this machine's ms since the epoch (Herald's `at` is the same clock). */
export type SubscriberReport = {
  kind: SocketPlan['kind'];
  snapshot: boolean;
  events: number;
  /** progress: the `at` of its first and last event, and its last status */
  firstAt: number | null;
  lastAt: number | null;
  lastStatus: string | null;
  completed: boolean;
  error: string | null;
};
export type OpenedReply = { type: 'opened'; snapshotMs: number[]; failed: number };
export type ReportReply = { type: 'report'; subscribers: SubscriberReport[]; lagHistogram: [number, number][]; snapshotAgeHistogram: [number, number][]; ats: number[] };

type Subscriber = SubscriberReport & { ws: WebSocket; openedAt: number; snapshotAt: number | null };

const subscribers: Subscriber[] = [];
/** how late each progress event after the snapshot came after its `at`, in 1 ms buckets */
const lag = new Map<number, number>();
/** how old each subscriber's snapshot was (after its `at`) when it came */
const snapshotAge = new Map<number, number>();
const ats = new Set<number>();

function open(command: OpenCommand, plan: SocketPlan): Promise<void> {
  return new Promise((resolve) => {
    const s: Subscriber = {
      kind: plan.kind,
      snapshot: false,
      events: 0,
      firstAt: null,
      lastAt: null,
      lastStatus: null,
      completed: false,
      error: null,
      ws: new WebSocket(`${command.url}/graphql`, 'graphql-transport-ws', { perMessageDeflate: false }),
      openedAt: Date.now(),
      snapshotAt: null,
    };
    subscribers.push(s);
    // One that never gets its snapshot is reported as such, not waited for.
    const timer = setTimeout(() => resolve(), 30_000);
    const settle = () => {
      clearTimeout(timer);
      resolve();
    };
    s.ws.once('open', () => s.ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${plan.token}` } })));
    s.ws.on('message', (data) => {
      const now = Date.now();
      const text = String(data);
      // Events by string search, not JSON.parse: the generator's CPU is taken from the same two cores as Herald's.
      if (text.includes('"type":"next"')) {
        if (text.includes('"errors":')) s.error ??= text.slice(0, 200);
        s.events++;
        const first = !s.snapshot;
        if (first) {
          s.snapshot = true;
          s.snapshotAt = now;
          settle();
        }
        if (plan.kind === 'progress') {
          const at = Date.parse(/"at":"([^"]+)"/.exec(text)?.[1] ?? '');
          if (Number.isFinite(at)) {
            s.firstAt ??= at;
            s.lastAt = at;
            ats.add(at);
            // The first frame is the snapshot: a joiner of a running execution gets the latest
            // event again, read when it was (so its `at` is as old as nothing has changed since).
            const into = first ? snapshotAge : lag;
            const ms = Math.max(0, now - at);
            into.set(ms, (into.get(ms) ?? 0) + 1);
          }
          s.lastStatus = /"status":"(\w+)"/.exec(text)?.[1] ?? s.lastStatus;
        }
        return;
      }
      const frame = JSON.parse(text);
      if (frame.type === 'connection_ack') {
        // A UUID, as graphql-ws clients make them: an index-like id ("4567") would make graphql-ws's
        // per-connection map of subscriptions an array of that many slots on the server.
        s.ws.send(JSON.stringify({ id: randomUUID(), type: 'subscribe', payload: { query: command.queries[plan.kind], variables: command.variables[plan.kind] } }));
      } else if (frame.type === 'complete') {
        s.completed = true;
      } else if (frame.type === 'error') {
        s.error ??= JSON.stringify(frame.payload).slice(0, 200);
        settle();
      }
    });
    s.ws.on('error', (error) => {
      s.error ??= error.message;
      settle();
    });
    s.ws.on('close', (code) => {
      if (!s.completed && code !== 1000) s.error ??= `closed ${code}`;
      settle();
    });
  });
}

process.on('message', async (message: OpenCommand | { cmd: 'report' } | { cmd: 'close' }) => {
  if (message.cmd === 'open') {
    const startedAt = Date.now();
    const first = subscribers.length;
    let next = 0;
    const lanes = message.concurrency > 0 ? message.concurrency : message.sockets.length;
    // `concurrency` sockets connecting at a time (a ramp), or all at once (a storm).
    await Promise.all(
      Array.from({ length: Math.min(lanes, message.sockets.length) }, async () => {
        while (next < message.sockets.length) {
          const i = next++;
          await open(message, message.sockets[i]);
        }
      }),
    );
    const opened = subscribers.slice(first);
    const reply: OpenedReply = {
      type: 'opened',
      // From the command: a storm's snapshots count from the moment it began.
      snapshotMs: opened.filter((s) => s.snapshotAt !== null).map((s) => s.snapshotAt! - (lanes >= message.sockets.length ? startedAt : s.openedAt)),
      failed: opened.filter((s) => !s.snapshot).length,
    };
    process.send!(reply);
  } else if (message.cmd === 'report') {
    const reply: ReportReply = {
      type: 'report',
      subscribers: subscribers.map(({ kind, snapshot, events, firstAt, lastAt, lastStatus, completed, error }) => ({ kind, snapshot, events, firstAt, lastAt, lastStatus, completed, error })),
      lagHistogram: [...lag],
      snapshotAgeHistogram: [...snapshotAge],
      ats: [...ats],
    };
    process.send!(reply);
  } else {
    for (const s of subscribers) s.ws.terminate();
    process.disconnect();
  }
});
process.send!({ type: 'ready' });
