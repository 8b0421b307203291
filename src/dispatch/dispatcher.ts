import type { Sql } from 'postgres';
import type { Gateway } from '../gateway/gateway.client';
import type { SendOutcome } from '../gateway/gateway.outcome';
import type { Logger } from '../logger';
import { retryDelay } from './backoff';
import { CircuitBreaker } from './circuit-breaker';
import { claimDue, completeFinished, recordResults, type ClaimCursor, type ClaimedMessage, type MessageResult } from './dispatch.store';
import { RateLimiter } from './rate-limiter';
import { nextOpening } from './send-window';

export type DispatcherOptions = {
  /** requests in flight at most */
  concurrency: number;
  /** messages per second at most, 0 for no limit */
  rateLimit: number;
  /** messages claimed per batch at most */
  batchSize: number;
  /** how often an idle dispatcher looks for due messages */
  pollMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** while the gateway refuses Herald's token, one probe request this often */
  authProbeMs: number;
  breaker: { threshold: number; cooldownMs: number; maxCooldownMs: number };
};

const CURSOR_RESTART_MS = 5_000;
/**
 * How long after a claim from the front found nothing the lanes wait before walking the
 * front again, unless a mailing starts or a retry of this process's is written. Behind the
 * front of the due-index lie the dead entries of every message sent since the last vacuum:
 * after a large mailing, each idle lane walked them all at every poll.
 */
const EMPTY_FRONT_MS = 1_000;
/** batches in flight side by side, so that sending goes on while one batch is written */
const LANES = 4;
const RECORD_RETRIES = 5;

type Sleeper = { reason: 'idle' | 'blocked'; wake: () => void };

/**
 * Sends due messages through the gateway. The messages table is the queue. The dispatcher
 * runs a few lanes side by side; each lane, in one transaction, claims a batch of due
 * messages (row locks: see claimDue), sends each with a deadline no later than its mailing's
 * end, writes the results and commits. A message is held from its claim until its result
 * is committed, and a process holds no more messages than it has requests in flight
 * (`concurrency`): should it die, its locks go with its connections and at most those
 * messages are sent again. All state is in Postgres.
 */
export class Dispatcher {
  /** ids of messages whose request is under way */
  private readonly inFlight = new Set<number>();
  private readonly breaker: CircuitBreaker;
  private readonly limiter: RateLimiter;
  private throttledUntil = 0;
  /** where the next claim resumes; null: from the front of the due-index */
  private cursor: ClaimCursor | null = null;
  private cursorSetAt = 0;
  /** when a claim from the front last found nothing due */
  private frontEmptyAt = 0;
  /** when a retry written by this process, behind the cursor, comes due */
  private frontDueAt = Infinity;
  private refusedSince: number | null = null;
  private nextAuthProbe = 0;
  private stopped = false;
  private lanes: Promise<void>[] = [];
  private endGrace!: () => void;
  /** resolves when a stopping dispatcher stops waiting for requests in flight */
  private readonly graceOver = new Promise<void>((resolve) => (this.endGrace = resolve));
  private readonly sleepers = new Set<Sleeper>();

  constructor(
    private readonly sql: Sql,
    private readonly gateway: Gateway,
    private readonly log: Logger,
    private readonly options: DispatcherOptions,
  ) {
    this.limiter = new RateLimiter(options.rateLimit);
    this.breaker = new CircuitBreaker(options.breaker, (state, detail) => {
      const line = { breaker: state, ...detail };
      if (state === 'open') this.log.warn(line, 'gateway circuit breaker opened: sending paused');
      else this.log.info(line, `gateway circuit breaker ${state}`);
    });
  }

  /** connections the dispatcher's database pool needs: one per lane, one for the rest */
  static connectionsFor(options: Pick<DispatcherOptions, 'concurrency' | 'batchSize'>): number {
    return laneSizes(options).length + 1;
  }

  start(): void {
    for (const size of laneSizes(this.options)) this.lanes.push(this.lane(size));
  }

  /** Look for due messages now (a mailing just started or resumed). */
  nudge(): void {
    // Its messages may sort before the cursor (their next_attempt_at is the time the start
    // began): look from the front.
    this.cursor = null;
    this.frontEmptyAt = 0;
    for (const sleeper of this.sleepers) if (sleeper.reason === 'idle') sleeper.wake();
  }

  /** null when sending works; else why not, for /readyz. */
  problem(): string | null {
    if (this.refusedSince !== null) {
      return `the gateway refuses Herald's token (401/403) since ${new Date(this.refusedSince).toISOString()}`;
    }
    return null;
  }

  /**
   * Stops claiming, lets requests in flight finish (up to `graceMs`) and writes every
   * result. Messages whose request is still unanswered then are given back at once.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    const grace = setTimeout(() => this.endGrace(), graceMs);
    for (const sleeper of this.sleepers) sleeper.wake();
    await Promise.all(this.lanes);
    clearTimeout(grace);
  }

  private async lane(size: number): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      if (this.cursor === null && now - this.frontEmptyAt < EMPTY_FRONT_MS) {
        await this.sleep('idle', Math.min(this.options.pollMs, EMPTY_FRONT_MS - (now - this.frontEmptyAt)));
        continue;
      }
      let allowance = size;
      if (this.refusedSince !== null) allowance = this.inFlight.size === 0 && now >= this.nextAuthProbe ? 1 : 0;
      if (now < this.throttledUntil) allowance = 0;
      allowance = Math.min(allowance, this.breaker.allowance(now));
      allowance = this.limiter.take(allowance);
      if (allowance <= 0) {
        const wait = Math.max(this.breaker.waitMs(now), this.throttledUntil - now, this.limiter.waitMs(), 5);
        await this.sleep('blocked', Math.min(wait, this.options.pollMs));
        continue;
      }
      // Taken before the claim's await, so that no other lane takes it too: the half-open
      // breaker's probe and the probe of a refused token are one request.
      const probing = this.breaker.state === 'half-open';
      if (probing) this.breaker.startProbe();
      const authProbeBefore = this.nextAuthProbe;
      if (this.refusedSince !== null) this.nextAuthProbe = now + this.options.authProbeMs;
      let claimed = 0;
      try {
        claimed = await this.batch(allowance);
      } catch (err) {
        this.log.error({ err }, 'a dispatch batch failed');
        await this.sleep('blocked', 1000);
        continue; // (after finally) the pause above was the wait
      } finally {
        this.limiter.giveBack(allowance - claimed);
        if (claimed === 0) {
          if (probing) this.breaker.abandonProbe();
          if (this.refusedSince !== null) this.nextAuthProbe = authProbeBefore;
        }
      }
      if (claimed === 0 && !this.stopped) await this.sleep('idle', this.options.pollMs);
    }
  }

  /** Claims, sends and records one batch in one transaction; returns how many it claimed. */
  private async batch(allowance: number): Promise<number> {
    let claimed: ClaimedMessage[] = [];
    let results: MessageResult[] = [];
    try {
      await this.sql.begin(async (tx) => {
        // Back to the front of the due-index now and then, not each time the claim comes
        // back short: what becomes due later sorts after the cursor, but a dead process's
        // messages are due again behind it. Walking from the front at every short claim
        // (the tail of a mailing) re-read every dead index entry.
        const now = Date.now();
        const fromFront = this.cursor === null || now >= this.frontDueAt || now - this.cursorSetAt > CURSOR_RESTART_MS;
        if (fromFront) {
          this.cursorSetAt = now;
          this.frontDueAt = Infinity;
        }
        const claim = await claimDue(tx, allowance, fromFront ? null : this.cursor);
        claimed = claim.messages;
        if (fromFront && claimed.length === 0) this.frontEmptyAt = now;
        if (claim.cursor) this.cursor = claim.cursor;
        if (claimed.length === 0) return;
        results = await this.sendAll(claimed);
        await recordResults(tx, results);
      });
    } catch (err) {
      if (results.length === 0) throw err;
      // The batch's transaction failed after its requests were made (the database went
      // away?): its locks are gone, but the answers must not be. Written on their own.
      this.log.error({ err, results: results.length }, 'writing a batch of results failed; writing them again');
      await this.recordAgain(results);
    }
    if (results.length > 0) {
      // This process's own retries and deferrals: due again later, but maybe at a time that
      // sorts before the cursor (a batch commits after the answers that set the times).
      let firstDue = Infinity;
      for (const r of results) if (r.status === 'PENDING' && r.nextAttemptAt !== null) firstDue = Math.min(firstDue, r.nextAttemptAt);
      if (firstDue < Infinity) {
        this.frontEmptyAt = 0;
        if (this.cursor && firstDue <= this.cursor.atMs) this.frontDueAt = Math.min(this.frontDueAt, firstDue);
      }
      const completed = await completeFinished(this.sql, [...new Set(results.map((r) => r.mailingId))]);
      for (const mailingId of completed) this.log.info({ mailingId }, 'mailing completed: every message reached a final status');
    }
    return claimed.length;
  }

  private async recordAgain(results: MessageResult[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await recordResults(this.sql, results);
      } catch (err) {
        if (attempt >= RECORD_RETRIES) {
          // Their messages are still PENDING and will be sent again (the gateway
          // de-duplicates on msgId).
          this.log.error({ err, results: results.length }, 'giving up writing a batch of results');
          return;
        }
        await sleep(200 * attempt);
      }
    }
  }

  /** Sends a batch; resolves with every result, or with those there are once a stop's grace is over. */
  private async sendAll(messages: ClaimedMessage[]): Promise<MessageResult[]> {
    const results: MessageResult[] = [];
    const sends = messages.map((message) => this.send(message).then((result) => void (result && results.push(result))));
    await Promise.race([Promise.all(sends), this.graceOver]);
    return results.slice();
  }

  private async send(message: ClaimedMessage): Promise<MessageResult | undefined> {
    // The ids go into each line as plain fields: a child logger per message cost more than
    // the line itself.
    const ids = { mailingId: message.mailingId, messageId: message.id, clientId: message.clientId };
    try {
      const now = Date.now();
      const window = message.windowFrom === null || message.windowTo === null ? null : { fromMinute: message.windowFrom, toMinute: message.windowTo };
      const opening = nextOpening(now, message.timezone, window);
      if (opening >= message.endAt || now >= message.endAt) {
        this.log.info({ ...ids, outcome: 'expired' }, 'message expired: no send window before the mailing ends');
        return result(message, now, 'EXPIRED', false, 'no send window left before the mailing ended');
      }
      if (opening > now) {
        this.log.debug({ ...ids, until: new Date(opening).toISOString() }, 'message waits for its send window');
        return result(message, now, 'PENDING', false, null, opening);
      }

      this.inFlight.add(message.id);
      const attempt = message.attempts + 1;
      const started = performance.now();
      const outcome = await this.gateway.send({ id: message.id, phone: message.phone, text: message.text }, message.endAt);
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      const next = this.decide(message, outcome, attempt, Date.now());
      if (outcome.kind === 'sent') {
        this.log.info({ ...ids, attempt, outcome: outcome.kind, durationMs }, 'message sent');
      } else {
        const retryAt = next.nextAttemptAt ? new Date(next.nextAttemptAt).toISOString() : undefined;
        this.log.warn({ ...ids, attempt, outcome: outcome.kind, durationMs, error: outcome.error, status: next.status, retryAt }, 'message not sent');
      }
      return next;
    } catch (err) {
      // Nothing above should throw; if it does, the message stays PENDING and is sent again.
      this.log.error({ ...ids, err }, 'sending a message failed unexpectedly');
      return undefined;
    } finally {
      this.inFlight.delete(message.id);
    }
  }

  /** The one place where a gateway outcome becomes a message's next state. */
  private decide(message: ClaimedMessage, outcome: SendOutcome, attempt: number, now: number): MessageResult {
    switch (outcome.kind) {
      case 'sent':
        this.breaker.success();
        this.authWorks();
        return result(message, now, 'SENT', true, null);
      case 'rejected':
        this.breaker.success();
        this.authWorks();
        return result(message, now, 'FAILED', true, outcome.error);
      case 'unauthorized':
        if (this.refusedSince === null) {
          this.refusedSince = now;
          this.log.error({ error: outcome.error }, 'the gateway refuses Herald\'s token: sending stopped everywhere until it accepts it again');
        }
        this.nextAuthProbe = now + this.options.authProbeMs;
        return result(message, now, 'PENDING', true, outcome.error, now + this.options.authProbeMs);
      case 'throttled': {
        this.authWorks();
        const wait = outcome.retryAfterMs ?? retryDelay(attempt, this.options.retryBaseMs, this.options.retryMaxMs);
        this.throttledUntil = Math.max(this.throttledUntil, now + wait);
        return result(message, now, 'PENDING', true, outcome.error, now + wait);
      }
      case 'retryable':
        this.breaker.failure(now);
        return result(message, now, 'PENDING', true, outcome.error, now + retryDelay(attempt, this.options.retryBaseMs, this.options.retryMaxMs));
    }
  }

  private authWorks(): void {
    if (this.refusedSince === null) return;
    this.log.info({ refusedForMs: Date.now() - this.refusedSince }, 'the gateway accepts Herald\'s token again: sending resumed');
    this.refusedSince = null;
  }

  private sleep(reason: Sleeper['reason'], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper: Sleeper = { reason, wake: done };
      const timer = setTimeout(done, ms);
      const sleepers = this.sleepers;
      sleepers.add(sleeper);
      function done() {
        clearTimeout(timer);
        sleepers.delete(sleeper);
        resolve();
      }
    });
  }
}

/**
 * The lanes' batch sizes: at most `batchSize` each, `concurrency` in all, so that the
 * process never holds more messages than it may have requests in flight.
 */
export function laneSizes(options: Pick<DispatcherOptions, 'concurrency' | 'batchSize'>): number[] {
  const { concurrency, batchSize } = options;
  const lanes = Math.max(Math.ceil(concurrency / batchSize), Math.min(LANES, concurrency));
  return Array.from({ length: lanes }, (_, i) => Math.floor(concurrency / lanes) + (i < concurrency % lanes ? 1 : 0));
}

function result(
  message: ClaimedMessage,
  at: number,
  status: MessageResult['status'],
  attempted: boolean,
  error: string | null,
  nextAttemptAt: number | null = null,
): MessageResult {
  return { id: message.id, mailingId: message.mailingId, status, attempted, error, nextAttemptAt, at };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
