import { answerWithin } from '../db/answer-within';
import type { Db } from '../db/connection';
import { logRepeated, type Logger } from '../logger';
import { reserveParts, type PartsReservation } from './provider-rate.store';

/** A reserved chunk may be used for this long from its start, and not after. */
export const VALIDITY_MS = 50;
/** The database may grant a chunk starting at most this far ahead of its clock. */
const HORIZON_MS = 250;
/** A process reserves ahead while its own reservations end sooner than this from now. */
const LEAD_MS = 100;
/** A reservation unanswered this long is given up (the database is away or hung). */
const ANSWER_MS = 1_000;
/** After a failed reservation, the next is tried after this, doubling up to the maximum. */
const AWAY_RETRY_MS = 100;
const AWAY_RETRY_MAX_MS = 1_000;
/** A take's signal of demand is acted on for this long at most. */
const SIGNAL_TTL_MS = 1_000;
/** The parts a failed take asked for size the chunks for this long. */
const WANTED_TTL_MS = 2_000;
/** What waitMs answers while a reservation is on its way, or while nothing is known. */
const SOON_MS = 5;
/**
 * Clocks are read in whole ms (Date.now()): each end of a chunk's window is pulled in by this,
 * so that the truncation never lets a part out before its start or after its end.
 */
const TICK_MS = 1;

export type SharedRateOptions = { provider: string; partsPerSecond: number; log: Logger };

/** A granted chunk, on this process's clock: usable while from <= now < until. */
type Chunk = { from: number; until: number; parts: number; spanEnd: number };

/** Parts reserved, taken and dropped unused; reservations refused (horizon) and failed (database). */
export type SharedRateStats = { reserved: number; taken: number; dropped: number; refusals: number; failures: number };

/**
 * A provider's parts-per-second limit held by every worker process together, for the
 * router to ask synchronously: the budget lives in PostgreSQL (provider-rate.store.ts, a
 * GCRA on the database's clock), and each process reserves chunks of it asynchronously,
 * ahead of demand, at most one reservation in flight.
 *
 * Why the sliding-second bound holds. The chunks the database grants (to any process) are
 * disjoint spans of its clock: chunk i of k_i parts spans [s_i, s_i + k_i/r), each
 * starting where the previous ended or later. A process places s_i on its own clock from
 * the round trip (the database read its clock between send and receive), and lets chunk i's
 * parts out only inside (s_i, s_i + V), V = VALIDITY_MS: from receive + offset, until
 * send + offset + V, both pulled in by a tick (a round trip longer than V wastes the
 * chunk). Parts not taken in time are dropped. In any window [t, t + 1 s) only chunks with
 * t - V < s_i < t + 1 s can have sent; their spans are disjoint and all but the last lie
 * inside that interval of 1 s + V, so they hold fewer than r * (1 + V) parts, and the last
 * at most k parts:
 *
 *     parts sent in any 1 s window <= r * (1 + V) + k
 *
 * with k the largest chunk: max(round(r / 20), 1) parts, rounded up to whole messages of
 * the longest one that asked lately (so at most that chunk plus one message less a part).
 * At V = 50 ms: 22 at r = 20 (chunks of 1, or 2 for two-part messages: fewer than 21
 * parts before the last chunk, as parts are whole), 220 at r = 200 (chunks of 10).
 * Sending late would widen the window as much as sending early, hence the hard end.
 *
 * Demand: a failed take that nothing reserved or on its way could satisfy asks for a
 * chunk; a take that leaves less than half a chunk usable asks for the next one ahead,
 * while this process's own reservations end within LEAD_MS. So a steady sender keeps one
 * or two chunks ahead, and a trickle costs one chunk per message at most.
 *
 * The database's trouble never throws out of available/tryTake: a reservation that fails or
 * gets no answer within ANSWER_MS is logged (once per interval, logRepeated) and tried again
 * after a short backoff; meanwhile nothing is granted, so the provider sends nothing.
 */
export class SharedRate {
  private readonly provider: string;
  private readonly perSecond: number;
  private readonly log: Logger;
  private readonly chunk: number;
  private chunks: Chunk[] = [];
  private inFlight: { parts: number; done: Promise<void> } | null = null;
  private unmet = false;
  private used = false;
  private signalAt = -Infinity;
  private lastFailedParts = 0;
  private wanted = 0;
  private wantedAt = -Infinity;
  private retryAt = 0;
  private awayRetryMs = AWAY_RETRY_MS;
  private away = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private stopped = false;
  private readonly listeners = new Set<() => void>();
  private readonly counts: SharedRateStats = { reserved: 0, taken: 0, dropped: 0, refusals: 0, failures: 0 };

  constructor(
    private readonly db: Db,
    options: SharedRateOptions,
  ) {
    this.provider = options.provider;
    this.perSecond = options.partsPerSecond > 0 ? options.partsPerSecond : 0;
    this.log = options.log;
    this.chunk = Math.max(1, Math.round(this.perSecond / 20));
  }

  /** parts that may be sent now (from reservations already granted and valid now); Infinity without a limit */
  available(now = Date.now()): number {
    if (this.perSecond === 0) return Infinity;
    this.prune(now);
    let parts = 0;
    for (const c of this.chunks) if (c.from <= now) parts += c.parts;
    return parts;
  }

  /** takes `parts` if available now; returns whether it did. A failed take signals demand. */
  tryTake(parts: number, now = Date.now()): boolean {
    if (this.perSecond === 0 || parts <= 0) return true;
    if (this.available(now) >= parts) {
      // The chunks closest to their end first: they are the first to be dropped.
      let left = parts;
      for (const c of this.chunks) {
        if (c.from > now || c.parts === 0) continue;
        const taken = Math.min(left, c.parts);
        c.parts -= taken;
        left -= taken;
        if (left === 0) break;
      }
      this.counts.taken += parts;
      this.lastFailedParts = 0;
      if (this.available(now) < Math.max(1, this.chunk / 2)) this.signal('used', now);
      this.pump(now);
      return true;
    }
    this.lastFailedParts = parts;
    if (now - this.wantedAt > WANTED_TTL_MS || parts >= this.wanted) {
      this.wanted = parts;
      this.wantedAt = now;
    }
    const coming = (this.inFlight && this.inFlight.parts >= parts) || this.chunks.some((c) => c.from > now && c.parts >= parts);
    if (!coming) this.signal('unmet', now);
    this.pump(now);
    return false;
  }

  /** ms until something may be available (0 if now); small when a reservation is on its way */
  waitMs(now = Date.now()): number {
    if (this.perSecond === 0) return 0;
    const need = Math.max(1, this.lastFailedParts);
    if (this.available(now) >= need) return 0;
    let next = Infinity;
    for (const c of this.chunks) if (c.from > now && c.parts > 0) next = Math.min(next, c.from);
    if (next < Infinity) return Math.max(1, Math.ceil(next - now));
    if (this.inFlight) return SOON_MS;
    if (this.timerAt < Infinity) return Math.max(1, Math.ceil(this.timerAt - now)) + SOON_MS;
    return SOON_MS;
  }

  /** Calls `listener` whenever a reservation lands; returns its removal. */
  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What became of the parts so far. */
  stats(): SharedRateStats {
    return { ...this.counts };
  }

  /** Nothing is reserved before the first take asks: a worker that never sends costs the budget nothing. */
  start(): void {
    this.stopped = false;
  }

  /** Leaves no timer and no reservation in flight behind. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.inFlight?.done;
  }

  private signal(kind: 'unmet' | 'used', now: number): void {
    this[kind] = true;
    this.signalAt = now;
  }

  /** Drops the chunks whose window has passed, counting their unused parts. */
  private prune(now: number): void {
    if (this.chunks.length === 0 || this.chunks[0].until > now) return;
    const kept: Chunk[] = [];
    for (const c of this.chunks) {
      if (c.until > now) kept.push(c);
      else this.counts.dropped += c.parts;
    }
    this.chunks = kept;
  }

  /** Starts a reservation if demand calls for one and nothing stands in the way; else comes back when something may. */
  private pump(now: number): void {
    if (this.stopped || this.perSecond === 0 || this.inFlight) return;
    if (!(this.unmet || this.used) || now - this.signalAt > SIGNAL_TTL_MS) return;
    if (now < this.retryAt) return this.wakeAt(this.retryAt);
    this.prune(now);
    const ahead = this.chunks.reduce((end, c) => Math.max(end, c.spanEnd), -Infinity);
    if (ahead >= now + LEAD_MS) return this.wakeAt(ahead - LEAD_MS);
    this.reserve(now);
  }

  private reserve(now: number): void {
    // Whole messages of the longest one asked for lately: a chunk a message cannot fill is
    // dropped with its last parts unused.
    const wanted = now - this.wantedAt <= WANTED_TTL_MS ? this.wanted : 0;
    const parts = wanted > 0 ? Math.ceil(this.chunk / wanted) * wanted : this.chunk;
    this.unmet = false;
    this.used = false;
    const sentAt = Date.now();
    let work: Promise<PartsReservation>;
    try {
      work = reserveParts(this.db, this.provider, parts, this.perSecond, HORIZON_MS);
    } catch (err) {
      work = Promise.reject(err); // a pool that throws at once is the database's trouble too
    }
    const done = answerWithin(work, ANSWER_MS, `reserving parts of provider ${this.provider}`).then(
      (answer) => {
        const receivedAt = Date.now();
        this.inFlight = null;
        if (this.stopped) return;
        this.databaseAnswered();
        if (answer.granted) {
          this.granted(parts, answer.startInMs, sentAt, receivedAt);
        } else {
          this.counts.refusals++;
          // Still wanted: asked again when the database's pace allows.
          this.unmet = true;
          this.retryAt = receivedAt + Math.max(1, answer.retryInMs);
        }
        this.pump(Date.now());
      },
      (err: unknown) => {
        this.inFlight = null;
        if (this.stopped) return;
        this.databaseFailed(err);
        this.pump(Date.now());
      },
    );
    this.inFlight = { parts, done };
  }

  private granted(parts: number, startInMs: number, sentAt: number, receivedAt: number): void {
    this.counts.reserved += parts;
    const chunk: Chunk = {
      from: receivedAt + startInMs + TICK_MS,
      until: sentAt + startInMs + VALIDITY_MS - TICK_MS,
      parts,
      spanEnd: receivedAt + startInMs + (parts * 1000) / this.perSecond,
    };
    if (chunk.until <= chunk.from) {
      // The round trip took longer than the window: the chunk cannot be placed safely.
      this.counts.dropped += parts;
      return;
    }
    this.chunks.push(chunk);
    this.chunks.sort((a, b) => a.until - b.until);
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.log.error({ err, provider: this.provider }, 'a provider rate listener failed');
      }
    }
  }

  private databaseAnswered(): void {
    this.awayRetryMs = AWAY_RETRY_MS;
    if (!this.away) return;
    this.away = false;
    this.log.info({ provider: this.provider }, 'provider rate: the database answers reservations again');
  }

  private databaseFailed(err: unknown): void {
    this.counts.failures++;
    this.away = true;
    // Still wanted: asked again after the backoff, if a take asked within the signal's life.
    this.unmet = true;
    this.retryAt = Date.now() + this.awayRetryMs;
    this.awayRetryMs = Math.min(AWAY_RETRY_MAX_MS, this.awayRetryMs * 2);
    logRepeated(
      this.log,
      'warn',
      { provider: this.provider, err },
      'provider rate: no reservation from the database; nothing is sent through this provider until it answers',
      `provider-rate-away:${this.provider}`,
    );
  }

  private wakeAt(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.pump(Date.now());
    }, Math.max(0, Math.ceil(at - Date.now())));
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }
}
