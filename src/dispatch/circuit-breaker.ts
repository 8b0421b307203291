export type BreakerState = 'closed' | 'open' | 'half-open';

export type BreakerOptions = {
  /** outcomes the failure rate is judged over (the last ones, a sliding window) */
  window: number;
  /** no judgement before this many outcomes are in the window */
  minCalls: number;
  /** share of failures (0–1] in the window that opens the breaker */
  failureRate: number;
  /** the first pause once open; it doubles each time a trial fails, up to maxOpenMs */
  openMs: number;
  maxOpenMs: number;
  /** trial requests let through at once when the pause is over */
  halfOpenCalls: number;
};

/** Leave to make one request, to be recorded against the state that gave it. */
export type BreakerPermit = { generation: number };

/**
 * Judges the gateway by its failure rate over the last `window` outcomes, as resilience4j
 * does, not by failures in a row: a message that fails while others go through leaves the
 * rate low, so it does not stop the rest. Once the rate reaches `failureRate` (with at least
 * `minCalls` outcomes), the breaker opens: nothing is sent for a pause. Then it lets
 * `halfOpenCalls` trials through: as soon as enough of them succeed it closes (with an
 * empty window), as soon as enough fail it opens again for a longer pause, never longer
 * than `maxOpenMs` — so sending resumes within about that long after the gateway recovers.
 * Outcomes of requests made under an earlier state (a slow answer from before the opening)
 * change nothing.
 */
export class CircuitBreaker {
  state: BreakerState = 'closed';
  private generation = 0;
  private readonly outcomes: Uint8Array;
  private next = 0;
  private calls = 0;
  private failures = 0;
  private openUntil = 0;
  private pauseMs: number;
  private trialsStarted = 0;
  private trialsPassed = 0;
  private trialsFailed = 0;
  /** trials that must fail to reopen, or pass to close: the failure rate applied to them */
  private readonly trialsToReopen: number;

  constructor(
    private readonly options: BreakerOptions,
    private readonly onChange: (state: BreakerState, detail: { failureRate: number; pauseMs: number }) => void = () => {},
  ) {
    this.outcomes = new Uint8Array(options.window);
    this.pauseMs = options.openMs;
    this.trialsToReopen = Math.max(1, Math.ceil(options.failureRate * options.halfOpenCalls));
  }

  /** How many requests may start now: unlimited when closed, what is left of the trials when half-open, none when open. */
  permits(now: number): number {
    if (this.state === 'open' && now >= this.openUntil) this.transition('half-open');
    if (this.state === 'closed') return Infinity;
    if (this.state === 'open') return 0;
    return Math.max(0, this.options.halfOpenCalls - this.trialsStarted);
  }

  /** A request starts (after `permits` allowed it). */
  acquire(): BreakerPermit {
    if (this.state === 'half-open') this.trialsStarted++;
    return { generation: this.generation };
  }

  record(permit: BreakerPermit, failed: boolean, now: number): void {
    if (permit.generation !== this.generation) return;
    if (this.state === 'half-open') {
      if (failed) this.trialsFailed++;
      else this.trialsPassed++;
      if (this.trialsFailed >= this.trialsToReopen) {
        this.pauseMs = Math.min(this.options.maxOpenMs, this.pauseMs * 2);
        this.open(now);
      } else if (this.trialsPassed > this.options.halfOpenCalls - this.trialsToReopen) {
        this.pauseMs = this.options.openMs;
        this.transition('closed');
      }
      return;
    }
    if (this.state !== 'closed') return;
    if (this.calls === this.options.window) this.failures -= this.outcomes[this.next];
    else this.calls++;
    this.outcomes[this.next] = failed ? 1 : 0;
    this.failures += this.outcomes[this.next];
    this.next = (this.next + 1) % this.options.window;
    if (this.calls >= this.options.minCalls && this.failures >= this.options.failureRate * this.calls) this.open(now);
  }

  /** ms until the breaker next lets anything through (0 when it does now). */
  waitMs(now: number): number {
    return this.state === 'open' ? Math.max(0, this.openUntil - now) : 0;
  }

  /** The longest the breaker pauses sending. */
  get maxPauseMs(): number {
    return this.options.maxOpenMs;
  }

  private open(now: number): void {
    this.openUntil = now + this.pauseMs;
    this.transition('open');
  }

  private transition(state: BreakerState): void {
    const failureRate = this.calls > 0 ? this.failures / this.calls : 0;
    this.state = state;
    this.generation++;
    this.trialsStarted = this.trialsPassed = this.trialsFailed = 0;
    if (state === 'closed') this.calls = this.failures = this.next = 0;
    this.onChange(state, { failureRate: Math.round(failureRate * 100) / 100, pauseMs: this.pauseMs });
  }
}
