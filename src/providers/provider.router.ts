import type { Delivery, Outbox, RoutedMessage, RoutedSending, Sender, SendOutcome } from '../dispatch/dispatch.ports';
import { FlowControl, type FlowOptions, type FlowTicket } from '../dispatch/flow-control';
import type { Logger } from '../logger';
import { segmentsOf } from '../mailings/segments';
import { providersFor, type RouteConfig } from './providers.file';
import type { ProviderKind, ProviderSnapshot, ProviderStateName } from './provider.type';

/** A provider's share of a rate shared by every worker (provider-rate.ts), in SMS parts. */
export interface PartsRate {
  /** parts that may go now */
  available(now?: number): number;
  /** takes `parts` if they may go now; a failed take tells it they are wanted */
  tryTake(parts: number, now?: number): boolean;
  /** ms until some may go */
  waitMs(now?: number): number;
  stop(): Promise<void>;
}

/** What a connection-oriented provider says of its link (SMPP: its binds). */
export type LinkState = { state: ProviderStateName; reason: string | null; bindsUp: number; binds: number };

/** One configured provider, as main.ts builds it from the providers file. */
export type ProviderSpec = {
  name: string;
  type: ProviderKind;
  sender: Sender;
  /** messages in flight at most, in this process */
  concurrency: number;
  /** configured, for all processes together (0: no limit) */
  partsPerSecond: number;
  /** the shared rate, when partsPerSecond > 0 */
  rate: PartsRate | null;
  /** the link's own state, for providers that hold connections (SMPP) */
  link?: () => LinkState;
};

export type RouterOptions = {
  /** each provider's breaker, token probe and pause on throttling */
  flow: FlowOptions;
  /** a throttle that names no wait pauses its provider this long, doubling while it goes on */
  throttleBaseMs: number;
  throttleMaxMs: number;
};

/** sentPerSecond is measured over this many whole seconds */
const METER_SECONDS = 5;
/** a message no provider of its route can take now is looked at again within these bounds */
const DEFER_MIN_MS = 10;
const DEFER_MAX_MS = 1_000;
/** how long a message waits here for its provider's next parts before it goes back to the queue */
const RATE_WAIT_MS = 1_000;
/** a message waiting for a busy provider is looked at again this soon at most */
const BUSY_MAX_MS = 100;
/** how much a mailing's earlier messages weigh in its shares, per message since */
const MIX_DECAY = 0.99;

/**
 * The providers behind the engine's Outbox port: routes by a client's operator code, and in
 * each route the first provider that can take the message now takes it. A provider cannot
 * while its link is down (SMPP unbound), its breaker is open, it refuses Herald's token, it
 * asked to slow down, all its slots are busy, or its share of the parts per second is used:
 * the route's next one takes the message. A provider that fails a message without having
 * taken it (refused or cut before the request went out, a 5xx, a throttle, a refused token)
 * hands it to the next provider of the route at once, within the same deadline; so a
 * provider that goes down loses its traffic to the next one within the time of one failed
 * request, and gets it back once its breaker closes again (BREAKER_MAX_OPEN_MS at most) or
 * its link is up (SMPP rebinds within its reconnect backoff).
 *
 * An ambiguous failure (the request went out, no clear answer came back) ends the message's
 * journey through this route: it may have been delivered, so the outbox names the provider,
 * the message row keeps it, and its retries go through that provider only, under the same
 * message id (HTTP: the same msgId; the provider can tell the repeat). So a message is
 * accepted by two providers only after an ambiguous answer (or a crash of Herald with its
 * request in flight), never otherwise.
 *
 * Each provider's state (flow control, in flight, rate) is its own and outlives any mailing.
 */
export class ProviderRouter implements Outbox {
  private readonly lanes: Lane[];
  private readonly byName: Map<string, Lane>;
  private readonly listeners = new Set<() => void>();
  private readonly mixes = new Map<number, { counts: Map<Lane, number>; total: number; at: number }>();

  constructor(
    specs: readonly ProviderSpec[],
    private readonly routes: readonly RouteConfig[],
    options: RouterOptions,
    private readonly log: Logger,
  ) {
    this.lanes = specs.map((spec) => new Lane(spec, options, log.child({ provider: spec.name }), () => this.changed()));
    this.byName = new Map(this.lanes.map((l) => [l.spec.name, l]));
  }

  /**
   * How many of a mailing's messages may start now. A message waits for the first provider
   * of its route that is up (it does not spill over to the next one because the first is
   * merely busy), so what matters is the room of the providers this mailing's messages have
   * been going to: each one's room over its share of them. A mailing not seen yet gets the
   * room of every provider; its first messages teach the shares.
   */
  permits(wanted: number, now: number, mailingId?: number): number {
    const room = new Map<Lane, number>();
    let total = 0;
    for (const lane of this.lanes) {
      const n = lane.capacity(wanted, now);
      room.set(lane, n);
      total += n;
    }
    const mix = mailingId === undefined ? undefined : this.mixes.get(mailingId);
    if (!mix || mix.total < 1) return Math.min(wanted, total);
    let allowed = wanted;
    for (const [lane, count] of mix.counts) {
      const share = count / mix.total;
      if (share >= 0.05) allowed = Math.min(allowed, Math.floor((room.get(lane) ?? 0) / share));
    }
    return Math.max(0, Math.min(allowed, total));
  }

  /** Which provider first took (or had to take) each of a mailing's recent messages. */
  private noteMix(mailingId: number | undefined, lane: Lane, now: number): void {
    if (mailingId === undefined) return;
    let mix = this.mixes.get(mailingId);
    if (!mix) {
      if (this.mixes.size >= 1_000) this.forgetMixes(now);
      this.mixes.set(mailingId, (mix = { counts: new Map(), total: 0, at: now }));
    }
    // A decaying count: the shares follow the mailing as its audience moves on.
    for (const [l, c] of mix.counts) mix.counts.set(l, c * MIX_DECAY);
    mix.total = mix.total * MIX_DECAY + 1;
    mix.counts.set(lane, (mix.counts.get(lane) ?? 0) + 1);
    mix.at = now;
  }

  private forgetMixes(now: number): void {
    for (const [id, mix] of this.mixes) if (now - mix.at > 60_000) this.mixes.delete(id);
    if (this.mixes.size >= 1_000) this.mixes.clear();
  }

  waitMs(now: number): number {
    let wait = Infinity;
    for (const lane of this.lanes) wait = Math.min(wait, lane.waitMs(now));
    return Number.isFinite(wait) ? wait : DEFER_MAX_MS;
  }

  send(message: RoutedMessage, deadline: number): RoutedSending {
    let markWritten!: () => void;
    const written = new Promise<void>((resolve) => (markWritten = resolve));
    const delivery = this.deliver(message, deadline, this.candidatesOf(message), markWritten).finally(markWritten);
    return { written, delivery };
  }

  /** The providers that may take a message: the one an ambiguous answer pinned it to, else its route's. */
  private candidatesOf(message: RoutedMessage): Lane[] {
    const pinned = message.provider === null ? undefined : this.byName.get(message.provider);
    // A pinned provider no longer configured cannot be asked: its route decides (documented).
    if (pinned) return [pinned];
    return providersFor(this.routes, message.operatorCode ?? '').map((name) => this.byName.get(name)!);
  }

  private async deliver(message: RoutedMessage, deadline: number, candidates: Lane[], markWritten: () => void): Promise<Delivery> {
    const parts = Math.max(1, segmentsOf(message.text).parts);
    let last: { outcome: SendOutcome; lane: Lane } | null = null;
    let busy: Lane | null = null;
    for (const lane of candidates) {
      const now = Date.now();
      if (now >= deadline) break;
      let availability = lane.availability(parts, now);
      if (availability === 'unavailable') continue;
      if (last === null) this.noteMix(message.mailingId, lane, now);
      // Its share of the parts per second used for now: the next parts come within a
      // fraction of a second (the claim was sized by what was there), so the message waits
      // for them here rather than going back to the queue and missing them again.
      if (availability === 'busy' && lane.waitsForRate(parts)) {
        if (await lane.awaitParts(parts, Math.min(deadline, now + RATE_WAIT_MS))) availability = lane.availability(parts, Date.now());
      }
      // Up but busy (its slots or its parts per second used): the message waits for it.
      if (availability !== 'free') {
        busy = lane;
        break;
      }
      const { sending, ticket } = lane.start(message, parts, deadline, Date.now());
      // The claim waits for the first request to be on the wire; a failover after it is
      // part of the same message's flight.
      if (last === null) void sending.written.then(markWritten);
      let outcome: SendOutcome;
      try {
        outcome = await sending.outcome;
      } catch (err) {
        outcome = { kind: 'retryable', error: `request failed: ${String(err)}` };
      }
      lane.finish(ticket, outcome, Date.now());
      if (outcome.kind === 'sent' || outcome.kind === 'rejected' || (outcome.kind === 'retryable' && outcome.ambiguous)) {
        return { outcome, provider: lane.spec.name, via: lane.spec.name, retryCapMs: lane.retryCapMs() };
      }
      if (candidates.length > 1) {
        lane.log.info({ messageId: message.id, outcome: outcome.kind, error: outcome.error }, 'provider did not take the message: trying the next of its route');
      }
      last = { outcome, lane };
    }
    if (last) return { outcome: last.outcome, provider: null, via: last.lane.spec.name, retryCapMs: last.lane.retryCapMs() };
    const now = Date.now();
    if (busy) {
      const retryAfterMs = Math.max(DEFER_MIN_MS, Math.min(BUSY_MAX_MS, busy.waitMs(now, true)));
      return { outcome: { kind: 'deferred', error: `waits for ${busy.spec.name}: ${busy.whyNot(parts, now)}`, retryAfterMs }, provider: null, via: busy.spec.name, retryCapMs: null };
    }
    const why = candidates.map((l) => `${l.spec.name}: ${l.whyNot(parts, now)}`).join('; ');
    const wait = Math.min(...candidates.map((l) => l.waitMs(now)));
    const retryAfterMs = Math.max(DEFER_MIN_MS, Math.min(DEFER_MAX_MS, Number.isFinite(wait) ? wait : DEFER_MAX_MS));
    return { outcome: { kind: 'deferred', error: `no provider of its route can take it now (${why})`, retryAfterMs }, provider: null, via: null, retryCapMs: null };
  }

  problem(): string | null {
    const problems = this.lanes.map((l) => l.flow.problem());
    if (problems.some((p) => p === null)) return null;
    return this.lanes.map((l, i) => `${l.spec.name}: ${problems[i]}`).join('; ');
  }

  snapshots(now = Date.now()): ProviderSnapshot[] {
    return this.lanes.map((l) => l.snapshot(now));
  }

  /** Each provider's circuit breaker (metrics). */
  breakers(): { provider: string; state: 'closed' | 'half-open' | 'open' }[] {
    return this.lanes.map((l) => ({ provider: l.spec.name, state: l.flow.breakerState }));
  }

  /** Told when a provider's state or reason changes (its link, its breaker, a throttle, its token). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A provider's link came up or went down (SMPP binds). */
  linkChanged(name: string): void {
    this.byName.get(name)?.noteState(Date.now());
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map(async (l) => {
      await l.spec.rate?.stop();
      await l.spec.sender.close();
    }));
  }
}

/** One provider's state in this process: its flow control, what is in flight, what it sent. */
class Lane {
  readonly flow: FlowControl;
  inFlight = 0;
  private throttleStreak = 0;
  private lastFailure: string | null = null;
  /** messages accepted per whole second, the last METER_SECONDS + 1 of them */
  private readonly meter = new Float64Array(METER_SECONDS + 1);
  private meterSecond = 0;
  private lastKey = '';

  constructor(
    readonly spec: ProviderSpec,
    private readonly options: RouterOptions,
    readonly log: Logger,
    private readonly onChange: () => void,
  ) {
    this.flow = new FlowControl(options.flow, log);
  }

  private linkDown(): LinkState | null {
    const link = this.spec.link?.();
    return link && link.state === 'DOWN' ? link : null;
  }

  /** How many of `wanted` messages this provider could start now. */
  capacity(wanted: number, now: number): number {
    if (wanted <= 0 || this.linkDown()) return 0;
    let n = Math.min(wanted, this.spec.concurrency - this.inFlight);
    if (n <= 0) return 0;
    n = Math.min(n, this.flow.permits(n, now));
    if (n > 0 && this.spec.rate) {
      const parts = this.spec.rate.available(now);
      // Nothing reserved: asking is what makes the shared rate reserve some.
      if (parts < 1) this.spec.rate.tryTake(1, now);
      n = Math.min(n, Math.floor(parts));
    }
    return Math.max(0, n);
  }

  /**
   * Whether it can take a message of `parts` now: `unavailable` (its link is down, its
   * breaker open or on trial with no trial left, its token refused, it asked to slow down:
   * passed over for the route's next provider), `busy` (up, but its slots or its share of
   * the parts per second are used: the message waits for it), or `free`.
   */
  availability(parts: number, now: number): 'unavailable' | 'busy' | 'free' {
    if (this.linkDown() || this.flow.permits(1, now) < 1) return 'unavailable';
    if (this.inFlight >= this.spec.concurrency) return 'busy';
    if (!this.spec.rate || this.spec.rate.available(now) >= parts) return 'free';
    this.spec.rate.tryTake(parts, now); // fails: it tells the shared rate that parts are wanted
    return 'busy';
  }

  /** Why it cannot take a message now (for a deferred message's error). */
  whyNot(parts: number, now: number): string {
    const down = this.linkDown();
    if (down) return `down (${down.reason ?? 'not connected'})`;
    const problem = this.flow.problem();
    if (problem) return problem;
    if (this.flow.breakerState === 'open') return 'circuit breaker open';
    if (this.flow.throttledFor(now) > 0) return 'throttled';
    if (this.inFlight >= this.spec.concurrency) return `${this.inFlight} in flight, its concurrency`;
    if (this.spec.rate && this.spec.rate.available(now) < parts) return `its ${this.spec.partsPerSecond} parts per second are used`;
    return 'busy';
  }

  /** Whether it is busy only because its share of the parts per second is used (a slot is free). */
  waitsForRate(parts: number): boolean {
    return this.spec.rate !== null && this.inFlight < this.spec.concurrency && this.spec.rate.available() < parts;
  }

  /** Waits until `parts` may go (true), or `until` passes (false); asking is what brings them. */
  async awaitParts(parts: number, until: number): Promise<boolean> {
    const rate = this.spec.rate!;
    for (;;) {
      const now = Date.now();
      if (rate.available(now) >= parts) return true;
      rate.tryTake(parts, now); // fails: parts are wanted
      if (now >= until) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.max(2, Math.min(20, rate.waitMs(now), until - now))));
    }
  }

  /** ms until it may take a message; a busy provider (`busy`) frees a slot any moment. */
  waitMs(now: number, busy = false): number {
    if (this.linkDown()) return Infinity;
    if (this.inFlight >= this.spec.concurrency) return busy ? DEFER_MIN_MS : Infinity;
    return Math.max(this.flow.waitMs(now), this.spec.rate?.waitMs(now) ?? 0);
  }

  /** Takes a slot (and the message's parts, when the rate is shared) and sends. */
  start(message: RoutedMessage, parts: number, deadline: number, now: number) {
    const ticket = this.flow.take(now);
    // canTake made sure they are there, just now and synchronously.
    this.spec.rate?.tryTake(parts, now);
    this.inFlight++;
    const sending = this.spec.sender.send({ id: message.id, phone: message.phone, text: message.text }, deadline);
    return { sending, ticket };
  }

  finish(ticket: FlowTicket, outcome: SendOutcome, now: number): void {
    this.inFlight--;
    let pauseMs = 0;
    if (outcome.kind === 'throttled') {
      pauseMs = outcome.retryAfterMs ?? Math.min(this.options.throttleMaxMs, this.options.throttleBaseMs * 2 ** this.throttleStreak);
      this.throttleStreak = Math.min(this.throttleStreak + 1, 20);
    } else if (outcome.kind === 'sent') {
      this.throttleStreak = 0;
    }
    this.flow.record(ticket, outcome, pauseMs, now);
    if (outcome.kind === 'sent') this.count(now);
    else if (outcome.kind !== 'rejected') this.lastFailure = outcome.error;
    this.noteState(now);
  }

  retryCapMs(): number | null {
    return this.flow.retryCapMs();
  }

  private count(now: number): void {
    const second = Math.floor(now / 1000);
    this.roll(second);
    this.meter[second % this.meter.length]++;
  }

  private roll(second: number): void {
    if (second === this.meterSecond) return;
    // Seconds with nothing sent since the last one counted are zeroes.
    for (let s = Math.max(this.meterSecond + 1, second - this.meter.length + 1); s <= second; s++) this.meter[s % this.meter.length] = 0;
    this.meterSecond = second;
  }

  /** Messages accepted per second over the last whole METER_SECONDS (the current one is still filling). */
  private sentPerSecond(now: number): number {
    const second = Math.floor(now / 1000);
    this.roll(second);
    let sum = 0;
    for (let s = second - METER_SECONDS; s < second; s++) sum += this.meter[((s % this.meter.length) + this.meter.length) % this.meter.length];
    return Math.round((sum / METER_SECONDS) * 10) / 10;
  }

  snapshot(now: number): ProviderSnapshot {
    const link = this.spec.link?.();
    const { state, reason } = this.judge(link, now);
    return {
      name: this.spec.name,
      type: this.spec.type,
      state,
      reason,
      inFlight: this.inFlight,
      partsPerSecond: this.spec.partsPerSecond,
      sentPerSecond: this.sentPerSecond(now),
      bindsUp: link ? link.bindsUp : null,
      binds: link ? link.binds : null,
    };
  }

  /** The provider's state, from its link, its token, its breaker and its throttling, worst first. */
  private judge(link: LinkState | undefined, now: number): { state: ProviderStateName; reason: string | null } {
    if (link?.state === 'DOWN') return { state: 'DOWN', reason: link.reason };
    const problem = this.flow.problem();
    if (problem) return { state: 'DOWN', reason: problem };
    const breaker = this.flow.breakerState;
    const failure = this.lastFailure ? ` (last: ${this.lastFailure})` : '';
    if (breaker === 'open') return { state: 'DOWN', reason: `circuit breaker open: too many of its last answers failed${failure}` };
    if (breaker === 'half-open') return { state: 'DEGRADED', reason: `circuit breaker half-open: trying it again${failure}` };
    if (this.flow.throttledFor(now) > 0) return { state: 'DEGRADED', reason: 'throttled: it asked Herald to slow down' };
    if (link?.state === 'DEGRADED') return { state: 'DEGRADED', reason: link.reason };
    return { state: 'UP', reason: null };
  }

  /** Logs and announces a change of state or reason. */
  noteState(now: number): void {
    const { state, reason } = this.judge(this.spec.link?.(), now);
    const key = `${state}|${reason}`;
    if (key === this.lastKey) return;
    const first = this.lastKey === '';
    this.lastKey = key;
    if (!first || state !== 'UP') this.log[state === 'UP' ? 'info' : 'warn']({ state, reason }, `provider ${state}`);
    this.onChange();
  }
}
