import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CallbackPoster, type CallbackTargets } from './simulator.callbacks';
import { FLAKY_CYCLE_MS, flakyPhase, SIMULATOR_MODES, STEADY, type FlakyPhase, type SimulatorMode } from './simulator.flaky';
import { DEFAULT_RECEIPT_BEHAVIOUR, pickOutcome, receiptDelay, receiptError, receiptProblem, type ReceiptBehaviour, type ReceiptOutcome } from './simulator.receipts';

/**
 * How the simulated gateway behaves; change it at any time with `set()` (or, for a
 * standalone simulator, `POST /_sim/behaviour`). Rates are shares of requests, 0 to 1.
 */
export type GatewayBehaviour = {
  /** answer after this many ms; [min, max] picks uniformly */
  latencyMs: number | [number, number];
  /** share answered 500 */
  errorRate: number;
  /** share answered 200 with a body that is not the documented JSON */
  malformedRate: number;
  /** share answered 400, as if the message were invalid */
  rejectRate: number;
  /** answer every request with this status (401, 429, 503, …) instead */
  forceStatus: number | null;
  /** Retry-After (seconds) sent with 429 */
  retryAfterSeconds: number | null;
  /** refuse service: every connection is destroyed at once */
  down: boolean;
  /** accept requests and never answer them */
  hang: boolean;
  /** a share of requests answered after `tailMs` instead of `latencyMs`: a long tail */
  tailRate: number;
  tailMs: number;
  /** per phone, answers of their own; the first rule naming a phone decides */
  rules: PhoneRule[];
} & ReceiptBehaviour;

/**
 * How requests for some phones are answered, whatever the rest of the behaviour says:
 * after `latencyMs`, and with `failStatus` (default 500) to the first `failTimes` of them.
 */
export type PhoneRule = { phones: number[]; latencyMs?: number; failTimes?: number; failStatus?: number };

export type ReceivedRequest = {
  msgId: number;
  phone: unknown;
  text: unknown;
  /** when it arrived, and when it was answered (null while unanswered) */
  at: number;
  answeredAt: number | null;
  status: number;
};

export const DEFAULT_BEHAVIOUR: GatewayBehaviour = {
  latencyMs: 0,
  errorRate: 0,
  malformedRate: 0,
  rejectRate: 0,
  forceStatus: null,
  retryAfterSeconds: null,
  down: false,
  hang: false,
  tailRate: 0,
  tailMs: 0,
  rules: [],
  ...DEFAULT_RECEIPT_BEHAVIOUR,
};

/**
 * A stand-in for the "probe" SMS gateway (shared/provider-api.yaml): `POST /send/{msgId}`
 * with a bearer token and `{ id, phone, text }`, answering `{ code: 0, message: "OK" }`.
 * Unreliable on request, and it records what it received so tests can assert on it.
 */
export class GatewaySimulator {
  private behaviour: GatewayBehaviour;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  /** every request that reached the send route, in arrival order (when `record` is on) */
  readonly received: ReceivedRequest[] = [];
  /** msgIds answered 200 with code 0: the gateway's own de-duplication set */
  readonly accepted = new Set<number>();
  requestCount = 0;
  /** TCP connections opened to it, refused ones included */
  connectionCount = 0;
  /** requests under way (arrived, not yet answered) */
  inFlight = 0;
  /** when the first request arrived (ms) */
  firstRequestAt: number | null = null;
  private address: { port: number; host: string } | undefined;
  /** requests per phone, for rules that fail a phone's first requests */
  private readonly perPhone = new Map<number, number>();
  private readonly callbacks: CallbackPoster;
  private readonly receiptTimers = new Set<NodeJS.Timeout>();
  /** receipts drawn, by outcome (whether or not Herald has taken them yet) */
  readonly receiptOutcomes: Record<ReceiptOutcome, number> = { delivered: 0, expired: 0, rejected: 0, undelivered: 0 };

  /**
   * Receipts are sent when `behaviour.receipts` is on; it is on by default only when a
   * `receiptsUrl` is given (a URL learnt later goes through `setCallbacks`).
   */
  constructor(
    private readonly options: {
      token: string;
      record?: boolean;
      behaviour?: Partial<GatewayBehaviour>;
      /** Herald's `…/providers/<name>/receipts` and `…/inbound`, and the bearer token it expects there */
      receiptsUrl?: string;
      inboundUrl?: string;
      receiptToken?: string;
      /** `flaky`: slow, failing and down by turns (simulator.flaky.ts); default `steady` */
      mode?: SimulatorMode;
      flakyCycleMs?: number;
    },
  ) {
    this.behaviour = { ...DEFAULT_BEHAVIOUR, receipts: options.receiptsUrl !== undefined, ...options.behaviour };
    this.callbacks = new CallbackPoster({ receiptsUrl: options.receiptsUrl, inboundUrl: options.inboundUrl, token: options.receiptToken });
    this.modeName = options.mode ?? 'steady';
  }

  private modeName: SimulatorMode;
  private flakyTimer: NodeJS.Timeout | undefined;
  /** when a flaky cycle began: its first request since the mode was set (null: none yet) */
  private flakyStartedAt: number | null = null;
  private flakyNow: FlakyPhase | undefined;
  private flakyTick: (() => void) | undefined;

  /** `steady` or `flaky`, and where a flaky one is in its cycle */
  get mode(): { mode: SimulatorMode; phase: FlakyPhase['name'] | null } {
    return { mode: this.modeName, phase: this.modeName === 'flaky' ? (this.flakyNow?.name ?? null) : null };
  }

  /**
   * Flaky: its phase's behaviour is set now and at every change of phase (a behaviour posted
   * meanwhile lasts until then). Steady: the fields flaky sets go back to a gateway that
   * answers at once and never fails.
   */
  setMode(mode: SimulatorMode): void {
    clearInterval(this.flakyTimer);
    this.flakyTimer = undefined;
    this.modeName = mode;
    this.flakyNow = undefined;
    if (mode === 'steady') return this.set(STEADY);
    this.flakyStartedAt = null;
    const cycleMs = this.options.flakyCycleMs ?? FLAKY_CYCLE_MS;
    const tick = () => {
      // Slow (the cycle's start) until the first request: a cycle running since the
      // simulator started would be anywhere by the time someone sends.
      const phase = flakyPhase(this.flakyStartedAt === null ? 0 : Date.now() - this.flakyStartedAt, cycleMs);
      if (phase.name === this.flakyNow?.name) return;
      this.flakyNow = phase;
      this.set(phase.behaviour);
      if (phase.behaviour.down) this.dropConnections();
    };
    tick();
    this.flakyTick = tick;
    this.flakyTimer = setInterval(tick, Math.max(10, Math.floor(cycleMs / 100)));
    this.flakyTimer.unref();
  }

  /** Where receipts and replies go, once known (Herald on port 0 learns its own port only when it listens). */
  setCallbacks(targets: CallbackTargets): void {
    this.callbacks.set(targets);
  }

  /** receipts figures: drawn, answered 2xx, refused (4xx), given up on, waiting */
  get receiptStats() {
    const c = this.callbacks;
    return { ...this.receiptOutcomes, posted: c.receiptsDelivered, refused: c.receiptsRefused, failed: c.receiptsFailed, pending: c.pending, scheduled: this.receiptTimers.size, posts: c.posts, lastStatus: c.lastStatus };
  }

  /** Sends a reply from a phone to Herald's inbound URL; resolves with Herald's answer. */
  reply(from: string, text: string): Promise<{ status: number; body: string }> {
    return this.callbacks.reply({ from, text, at: new Date().toISOString() });
  }

  /**
   * Changes the behaviour. Ending a hang cuts the hung requests off (their clients see a
   * broken socket) unless `keepHung`: then they stay unanswered until their clients give up,
   * as requests a real gateway lost would.
   */
  set(change: Partial<GatewayBehaviour>, opts: { keepHung?: boolean } = {}): void {
    this.behaviour = { ...this.behaviour, ...change };
    if (!this.behaviour.hang && !opts.keepHung) this.releaseHanging();
  }

  get current(): GatewayBehaviour {
    return this.behaviour;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const address = await this.listen(port, host);
    this.address = { port: address.port, host };
    if (this.modeName === 'flaky' && !this.flakyTimer) this.setMode('flaky');
    return `http://${host}:${address.port}`;
  }

  /** Stops listening: connections are refused (ECONNREFUSED) until `accept()`; open ones are broken. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again, on the same port, after `refuse()`. */
  async accept(): Promise<void> {
    if (this.server || !this.address) return;
    await this.listen(this.address.port, this.address.host);
  }

  private async listen(port: number, host: string): Promise<AddressInfo> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 60_000;
    server.on('connection', (socket) => {
      this.connectionCount++;
      if (this.behaviour.down) return void socket.destroy();
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    this.server = server;
    return server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    clearInterval(this.flakyTimer);
    this.flakyTimer = undefined;
    for (const t of this.receiptTimers) clearTimeout(t);
    this.receiptTimers.clear();
    this.callbacks.close();
    this.releaseHanging();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Breaks every open connection, as a gateway that falls over would. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private releaseHanging(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url?.startsWith('/_sim/')) return this.control(req, res, req.url);
    const body = await readBody(req);
    const match = /^\/send\/(-?\d+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) return reply(res, 404, { code: 404, message: 'not found' });
    if (this.modeName === 'flaky' && this.flakyStartedAt === null) {
      this.flakyStartedAt = Date.now();
      this.flakyTick?.();
    }
    if (this.behaviour.down) return void res.destroy();

    this.requestCount++;
    this.firstRequestAt ??= Date.now();
    const msgId = Number(match[1]);
    const b = this.behaviour;
    let parsed: { phone?: unknown; text?: unknown } = {};
    try {
      parsed = JSON.parse(body);
    } catch {
      // recorded as received all the same
    }
    const phone = Number(parsed.phone);
    const seen = (this.perPhone.get(phone) ?? 0) + 1;
    if (b.rules.length > 0) this.perPhone.set(phone, seen);
    const rule = b.rules.find((r) => r.phones.includes(phone));
    const failing = rule?.failTimes !== undefined && seen <= rule.failTimes;
    const status = failing && this.authorised(req) ? (rule!.failStatus ?? 500) : this.decide(req, msgId, body);
    const record: ReceivedRequest = { msgId, phone: parsed.phone, text: parsed.text, at: Date.now(), answeredAt: null, status };
    if (this.options.record !== false) this.received.push(record);
    if (b.hang) {
      this.hanging.add(res);
      res.once('close', () => this.hanging.delete(res));
      return;
    }
    const latency =
      rule?.latencyMs ??
      (b.tailRate > 0 && Math.random() < b.tailRate
        ? b.tailMs
        : Array.isArray(b.latencyMs)
          ? b.latencyMs[0] + Math.random() * (b.latencyMs[1] - b.latencyMs[0])
          : b.latencyMs);
    this.inFlight++;
    try {
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    } finally {
      this.inFlight--;
    }
    if (res.destroyed) return;
    record.answeredAt = Date.now();

    if (status === 200 && Math.random() < b.malformedRate) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Service Temporarily Unavailable</html>');
      return;
    }
    if (status === 200) {
      this.accepted.add(msgId);
      if (b.receipts) this.scheduleReceipt(msgId);
    }
    const headers: Record<string, string> =
      status === 429 && b.retryAfterSeconds !== null ? { 'retry-after': String(b.retryAfterSeconds) } : {};
    reply(res, status, status === 200 ? { code: 0, message: 'OK' } : { code: status, message: 'error' }, headers);
  }

  // A receipt per accepted request, a retried msgId included: a gateway reports what it
  // accepted, and Herald's receipts are idempotent.
  private scheduleReceipt(msgId: number): void {
    const b = this.behaviour;
    const outcome = pickOutcome(b);
    this.receiptOutcomes[outcome]++;
    const timer = setTimeout(() => {
      this.receiptTimers.delete(timer);
      const error = receiptError(outcome);
      this.callbacks.receipt({ id: String(msgId), status: outcome, ...(error ? { error } : {}), at: new Date().toISOString() });
    }, receiptDelay(b));
    this.receiptTimers.add(timer);
  }

  private authorised(req: IncomingMessage): boolean {
    return req.headers.authorization === `Bearer ${this.options.token}`;
  }

  private decide(req: IncomingMessage, msgId: number, body: string): number {
    const b = this.behaviour;
    if (b.forceStatus !== null) return b.forceStatus;
    if (!this.authorised(req)) return 401;
    let msg: { id?: unknown; phone?: unknown; text?: unknown };
    try {
      msg = JSON.parse(body);
    } catch {
      return 400;
    }
    const valid =
      msg.id === msgId &&
      typeof msg.phone === 'number' &&
      /^7\d{10}$/.test(String(msg.phone)) &&
      typeof msg.text === 'string' &&
      msg.text.length > 0;
    if (!valid || Math.random() < b.rejectRate) return 400;
    return Math.random() < b.errorRate ? 500 : 200;
  }

  /**
   * A small control API: on the simulator's own port (`npm run gateway`), and for the
   * built-in one under Herald's port in development (main.ts). `url` is the path from `/_sim/`.
   */
  async control(req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
    if (req.method === 'GET' && url === '/_sim/stats') {
      return reply(res, 200, {
        ...this.mode,
        requests: this.requestCount,
        accepted: this.accepted.size,
        inFlight: this.inFlight,
        firstRequestAt: this.firstRequestAt,
        receipts: this.receiptStats,
        behaviour: this.behaviour,
      });
    }
    if (req.method === 'GET' && url.startsWith('/_sim/received')) {
      return reply(res, 200, this.received.slice(-1000));
    }
    if (req.method === 'POST' && url === '/_sim/mode') {
      let body: { mode?: unknown } | null;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        body = null;
      }
      const mode = body?.mode;
      if (typeof mode !== 'string' || !(SIMULATOR_MODES as readonly string[]).includes(mode)) return reply(res, 400, { message: `body must be {"mode": "${SIMULATOR_MODES.join('" | "')}"}` });
      this.setMode(mode as SimulatorMode);
      return reply(res, 200, { ...this.mode, behaviour: this.behaviour });
    }
    if (req.method === 'POST' && url === '/_sim/behaviour') {
      let change: unknown;
      try {
        change = JSON.parse(await readBody(req));
      } catch {
        change = null;
      }
      if (change === null || typeof change !== 'object' || Array.isArray(change)) return reply(res, 400, { message: 'body must be a JSON object of behaviour fields' });
      const problem = receiptProblem(change as Partial<ReceiptBehaviour>);
      if (problem) return reply(res, 400, { message: problem });
      this.set(change as Partial<GatewayBehaviour>);
      return reply(res, 200, this.behaviour);
    }
    if (req.method === 'POST' && url === '/_sim/reply') {
      const problem = 'body must be {"from": "7XXXXXXXXXX", "text": "…"}';
      let body: { from?: unknown; text?: unknown };
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return reply(res, 400, { message: problem });
      }
      const from = typeof body?.from === 'number' ? String(body.from) : body?.from;
      if (typeof from !== 'string' || !/^7\d{10}$/.test(from) || typeof body.text !== 'string' || body.text.length === 0) return reply(res, 400, { message: problem });
      const answer = await this.reply(from, body.text);
      // Herald's answer passed on, so that whoever asked sees whether it took the reply
      return reply(res, answer.status === 0 ? 502 : 200, { heraldStatus: answer.status, heraldBody: answer.body.slice(0, 1000) });
    }
    reply(res, 404, { message: 'not found' });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', () => resolve(''));
  });
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
