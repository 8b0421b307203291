import type { SendOutcome } from './dispatch.ports';
import type { Logger } from '../logger';
import { CircuitBreaker, type BreakerOptions, type BreakerPermit } from './circuit-breaker';
import { RateLimiter } from './rate-limiter';

export type FlowOptions = {
  breaker: BreakerOptions;
  /** messages per second at most, 0 for no limit */
  rateLimit: number;
  /** while the gateway refuses Herald's token, one probe request this often */
  authProbeMs: number;
};

/** What a request was started under; handed back with its outcome. */
export type FlowTicket = { breaker: BreakerPermit; authProbe: boolean };

/**
 * How fast this process may send, from what the gateway has been answering: the circuit
 * breaker (failure rate), the stop while the gateway refuses Herald's token (401/403: one
 * probe at a time, every authProbeMs), the pause a 429 asks for (Retry-After), and the
 * configured rate limit. The dispatcher asks it before starting requests and tells it
 * every outcome; it decides nothing about messages (message.fate.ts does).
 */
export class FlowControl {
  private readonly breaker: CircuitBreaker;
  private readonly limiter: RateLimiter;
  private throttledUntil = 0;
  private refusedSince: number | null = null;
  private nextAuthProbe = 0;
  private authProbing = false;

  constructor(
    private readonly options: FlowOptions,
    private readonly log: Logger,
  ) {
    this.limiter = new RateLimiter(options.rateLimit);
    this.breaker = new CircuitBreaker(options.breaker, (state, detail) => {
      const line = { breaker: state, ...detail };
      if (state === 'open') this.log.warn(line, 'gateway circuit breaker opened: sending paused');
      else this.log.info(line, `gateway circuit breaker ${state}`);
    });
  }

  /** How many of `wanted` requests may start now. */
  permits(wanted: number, now: number): number {
    if (now < this.throttledUntil) return 0;
    let allowed = Math.min(wanted, this.breaker.permits(now));
    if (this.refusedSince !== null) allowed = Math.min(allowed, !this.authProbing && now >= this.nextAuthProbe ? 1 : 0);
    return this.limiter.available(allowed, now);
  }

  /** A request starts now. */
  take(now: number): FlowTicket {
    this.limiter.take(1, now);
    const authProbe = this.refusedSince !== null;
    if (authProbe) {
      this.authProbing = true;
      this.nextAuthProbe = now + this.options.authProbeMs;
    }
    return { breaker: this.breaker.acquire(), authProbe };
  }

  /** What a request came to. */
  record(ticket: FlowTicket, outcome: SendOutcome, retryAfterMs: number, now: number): void {
    if (ticket.authProbe) this.authProbing = false;
    switch (outcome.kind) {
      case 'sent':
      case 'rejected':
        // The gateway works; a message it refuses is the message's fault.
        this.breaker.record(ticket.breaker, false, now);
        this.authWorks(now);
        return;
      case 'unauthorized':
        if (this.refusedSince === null) {
          this.refusedSince = now;
          this.log.error({ error: outcome.error }, "the gateway refuses Herald's token: sending stopped until it accepts it again");
        }
        this.nextAuthProbe = now + this.options.authProbeMs;
        return;
      case 'throttled':
        this.authWorks(now);
        this.throttledUntil = Math.max(this.throttledUntil, now + retryAfterMs);
        return;
      case 'retryable':
        this.breaker.record(ticket.breaker, true, now);
        return;
    }
  }

  /** ms until something may be sent again, when nothing may now. */
  waitMs(now: number): number {
    return Math.max(this.breaker.waitMs(now), this.throttledUntil - now, this.limiter.waitMs(), this.refusedSince !== null ? this.nextAuthProbe - now : 0, 0);
  }

  /**
   * While the breaker is not closed the gateway as a whole is failing: a retry then waits no
   * longer than the breaker's longest pause, so that sending resumes at full speed soon
   * after the gateway recovers instead of after each message's grown backoff.
   */
  retryCapMs(): number | null {
    return this.breaker.state === 'closed' ? null : this.breaker.maxPauseMs;
  }

  get breakerState() {
    return this.breaker.state;
  }

  /** ms left of a pause the provider asked for (throttling), 0 when none */
  throttledFor(now: number): number {
    return Math.max(0, this.throttledUntil - now);
  }

  /** null when sending works; else why not, for /readyz. */
  problem(): string | null {
    if (this.refusedSince === null) return null;
    return `the gateway refuses Herald's token (401/403) since ${new Date(this.refusedSince).toISOString()}`;
  }

  private authWorks(now: number): void {
    if (this.refusedSince === null) return;
    this.log.info({ refusedForMs: now - this.refusedSince }, "the gateway accepts Herald's token again: sending resumed");
    this.refusedSince = null;
  }
}
