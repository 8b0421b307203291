/**
 * A token bucket for a global send rate (messages per second); 0 means no limit. The burst
 * is a tenth of a second's worth, so the rate holds over any window longer than that.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly burst: number;

  constructor(private readonly perSecond: number, now = Date.now()) {
    this.burst = Math.max(1, perSecond / 10);
    this.tokens = this.burst;
    this.last = now;
  }

  /** How many of `wanted` could be taken now. */
  available(wanted: number, now = Date.now()): number {
    if (this.perSecond <= 0) return wanted;
    this.refill(now);
    return Math.min(wanted, Math.floor(this.tokens));
  }

  /** Takes up to `wanted` tokens; returns how many it could. */
  take(wanted: number, now = Date.now()): number {
    const granted = this.available(wanted, now);
    if (this.perSecond > 0) this.tokens -= granted;
    return granted;
  }

  /** ms until at least one token is there. */
  waitMs(): number {
    if (this.perSecond <= 0 || this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
}
