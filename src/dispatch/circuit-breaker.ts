export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Stops the flood while the gateway is failing. After `threshold` failures in a row it
 * opens: nothing is sent for a cooldown (doubling, up to `maxCooldownMs`). Then it lets one
 * probe through (half-open): a success closes it, a failure opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private cooldownMs: number;
  private openUntil = 0;
  private probing = false;
  state: BreakerState = 'closed';

  constructor(
    private readonly options: { threshold: number; cooldownMs: number; maxCooldownMs: number },
    private readonly onChange: (state: BreakerState, detail: { failures: number; cooldownMs: number }) => void = () => {},
  ) {
    this.cooldownMs = options.cooldownMs;
  }

  /** How many requests may start now: Infinity when closed, 1 for the probe, 0 when open. */
  allowance(now = Date.now()): number {
    if (this.state === 'closed') return Infinity;
    if (this.state === 'open' && now >= this.openUntil) this.transition('half-open');
    return this.state === 'half-open' && !this.probing ? 1 : 0;
  }

  /** The caller is starting the half-open probe. */
  startProbe(): void {
    if (this.state === 'half-open') this.probing = true;
  }

  /** The probe taken did not happen after all (nothing was due): another may. */
  abandonProbe(): void {
    this.probing = false;
  }

  /** ms until the breaker next allows anything (0 when it does now). */
  waitMs(now = Date.now()): number {
    return this.state === 'open' ? Math.max(0, this.openUntil - now) : 0;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    this.cooldownMs = this.options.cooldownMs;
    if (this.state !== 'closed') this.transition('closed');
  }

  failure(now = Date.now()): void {
    this.failures++;
    if (this.state === 'half-open') {
      this.probing = false;
      this.cooldownMs = Math.min(this.options.maxCooldownMs, this.cooldownMs * 2);
      this.open(now);
    } else if (this.state === 'closed' && this.failures >= this.options.threshold) {
      this.open(now);
    }
  }

  private open(now: number): void {
    this.openUntil = now + this.cooldownMs;
    this.transition('open');
  }

  private transition(state: BreakerState): void {
    this.state = state;
    this.onChange(state, { failures: this.failures, cooldownMs: this.cooldownMs });
  }
}
