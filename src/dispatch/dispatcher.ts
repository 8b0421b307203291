import type { Sql } from 'postgres';
import type { Gateway } from '../gateway/gateway.client';
import type { SendOutcome } from '../gateway/gateway.outcome';
import type { Logger } from '../logger';
import { retryDelay } from './backoff';
import { CircuitBreaker } from './circuit-breaker';
import { claimDue, completeFinished, recordResults, releaseLeases, type ClaimCursor, type ClaimedMessage, type MessageResult } from './dispatch.store';
import { RateLimiter } from './rate-limiter';
import { nextOpening } from './send-window';

export type DispatcherOptions = {
  /** requests in flight at most */
  concurrency: number;
  /** messages per second at most, 0 for no limit */
  rateLimit: number;
  /** messages claimed per query at most */
  batchSize: number;
  /** how often an idle dispatcher looks for due messages */
  pollMs: number;
  /** how long a claim holds a message before another dispatcher may take it */
  leaseMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** while the gateway refuses Herald's token, one probe request this often */
  authProbeMs: number;
  breaker: { threshold: number; cooldownMs: number; maxCooldownMs: number };
};

// Results are written as they come: a flush starts as soon as there is a result and none is
// running, so a batch is whatever arrived during the previous write. The timer only retries
// after a failed write.
const FLUSH_RETRY_MS = 200;
const CURSOR_RESTART_MS = 5_000;
const FLUSH_MAX = 1_000;

/**
 * Sends due messages through the gateway. The messages table is the queue: the dispatcher
 * claims due messages in batches, sends each with a deadline no later than its mailing's
 * end, and writes the results back in batches. A message takes one of `concurrency` slots
 * from its claim until its result is written, so a process never holds more claimed
 * messages than that: should it die, at most `concurrency` messages are sent again. All
 * state is in Postgres; a dispatcher that dies leaves leases that run out, and its messages
 * go to another.
 */
export class Dispatcher {
  private readonly inFlight = new Map<number, ClaimedMessage>();
  private results: MessageResult[] = [];
  /** results answered but not yet written (buffered or being written) */
  private unrecorded = 0;
  private readonly breaker: CircuitBreaker;
  private readonly limiter: RateLimiter;
  private throttledUntil = 0;
  /** where the next claim resumes; null: from the front of the due-index */
  private cursor: ClaimCursor | null = null;
  private cursorSetAt = 0;
  private refusedSince: number | null = null;
  private nextAuthProbe = 0;
  private stopped = false;
  private loopDone: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private sleeping: { reason: 'idle' | 'slots' | 'blocked'; wake: () => void } | null = null;

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

  start(): void {
    this.loopDone = this.loop();
    this.flushTimer = setInterval(() => void this.flush(), FLUSH_RETRY_MS);
  }

  /** Look for due messages now (a mailing just started or resumed). */
  nudge(): void {
    // Its messages may sort before the cursor (their next_attempt_at is the time the start
    // began): look from the front.
    this.cursor = null;
    if (this.sleeping?.reason === 'idle') this.sleeping.wake();
  }

  /** null when sending works; else why not, for /readyz. */
  problem(): string | null {
    if (this.refusedSince !== null) {
      return `the gateway refuses Herald's token (401/403) since ${new Date(this.refusedSince).toISOString()}`;
    }
    return null;
  }

  /** Stops claiming, lets requests in flight finish (up to `graceMs`), writes every result. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    this.sleeping?.wake();
    await this.loopDone;
    const deadline = Date.now() + graceMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await sleep(20);
    clearInterval(this.flushTimer);
    while (this.results.length > 0 || this.flushing) await this.flush();
    // Requests still unanswered: give their messages back at once rather than at lease end.
    await releaseLeases(this.sql, [...this.inFlight.keys()]).catch(() => {});
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      let allowance = Math.min(this.options.concurrency - this.inFlight.size - this.unrecorded, this.options.batchSize);
      if (allowance <= 0) {
        await this.sleep('slots', this.options.pollMs);
        continue;
      }
      if (this.refusedSince !== null) allowance = this.inFlight.size === 0 && now >= this.nextAuthProbe ? 1 : 0;
      if (now < this.throttledUntil) allowance = 0;
      allowance = Math.min(allowance, this.breaker.allowance(now));
      allowance = this.limiter.take(allowance);
      if (allowance <= 0) {
        const wait = Math.max(this.breaker.waitMs(now), this.throttledUntil - now, this.limiter.waitMs(), 5);
        await this.sleep('blocked', Math.min(wait, this.options.pollMs));
        continue;
      }
      let claimed: ClaimedMessage[];
      try {
        // Back to the front of the due-index now and then, not each time the claim comes
        // back short: what becomes due later sorts after the cursor, but a dead process's
        // messages are due again behind it once their leases run out. Walking from the front
        // at every short claim (the tail of a mailing) re-read every dead index entry.
        if (this.cursor && now - this.cursorSetAt > CURSOR_RESTART_MS) this.cursor = null;
        const claim = await claimDue(this.sql, allowance, this.options.leaseMs, this.cursor);
        claimed = claim.messages;
        if (claim.cursor) {
          if (!this.cursor) this.cursorSetAt = now;
          this.cursor = claim.cursor;
        }
      } catch (err) {
        this.log.error({ err }, 'claiming due messages failed');
        await this.sleep('blocked', 1000);
        continue;
      }
      this.limiter.giveBack(allowance - claimed.length);
      if (claimed.length === 0) {
        await this.sleep('idle', this.options.pollMs);
        continue;
      }
      if (this.breaker.state === 'half-open') this.breaker.startProbe();
      if (this.refusedSince !== null) this.nextAuthProbe = now + this.options.authProbeMs;
      for (const message of claimed) void this.send(message);
    }
  }

  private async send(message: ClaimedMessage): Promise<void> {
    this.inFlight.set(message.id, message);
    // The ids go into each line as plain fields: a child logger per message cost more than
    // the line itself.
    const ids = { mailingId: message.mailingId, messageId: message.id, clientId: message.clientId };
    try {
      const now = Date.now();
      const window = message.windowFrom === null || message.windowTo === null ? null : { fromMinute: message.windowFrom, toMinute: message.windowTo };
      const opening = nextOpening(now, message.timezone, window);
      if (opening >= message.endAt || now >= message.endAt) {
        this.log.info({ ...ids, outcome: 'expired' }, 'message expired: no send window before the mailing ends');
        return this.push(result(message, now, 'EXPIRED', false, 'no send window left before the mailing ended'));
      }
      if (opening > now) {
        this.log.debug({ ...ids, until: new Date(opening).toISOString() }, 'message waits for its send window');
        return this.push(result(message, now, 'PENDING', false, null, opening));
      }

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
      this.push(next);
    } catch (err) {
      // Nothing above should throw; if it does, the lease runs out and the message is retried.
      this.log.error({ ...ids, err }, 'sending a message failed unexpectedly');
    } finally {
      // The slot passes to `unrecorded` (see push) and frees once the result is written.
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

  private push(result: MessageResult): void {
    this.results.push(result);
    this.unrecorded++;
    void this.flush();
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.results.length === 0) return Promise.resolve();
    const batch = this.results.splice(0, FLUSH_MAX);
    this.flushing = (async () => {
      try {
        await recordResults(this.sql, batch);
        this.unrecorded -= batch.length;
        if (this.sleeping?.reason === 'slots') this.sleeping.wake();
        const completed = await completeFinished(this.sql, [...new Set(batch.map((r) => r.mailingId))]);
        for (const mailingId of completed) {
          this.log.info({ mailingId }, 'mailing completed: every message reached a final status');
        }
      } catch (err) {
        // Kept (and their slots held) for the next try; should the process die first, the
        // leases run out and the messages are sent again (the gateway de-duplicates on msgId).
        this.log.error({ err, results: batch.length }, 'writing message results failed; will retry');
        this.results = batch.concat(this.results);
        await sleep(FLUSH_RETRY_MS);
      } finally {
        this.flushing = null;
      }
      if (this.results.length > 0) void this.flush();
    })();
    return this.flushing;
  }

  private sleep(reason: 'idle' | 'slots' | 'blocked', ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.sleeping?.wake === done) self.sleeping = null;
        resolve();
      }
      this.sleeping = { reason, wake: done };
    });
  }
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
