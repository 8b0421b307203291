import type { Logger } from '../logger';

const WINDOW_MS = 60_000;
/** Refusals logged one by one per address and minute; the rest are counted in one line. */
const LOGGED_PER_WINDOW = 20;
/** Addresses remembered at most; beyond, finished windows are forgotten first. */
const MAX_ADDRESSES = 10_000;

type Window = { start: number; count: number; transport: string };

/**
 * Failed authentications per remote address, in this process: past AUTH_FAILURES_PER_MINUTE
 * in a minute an address is refused (RATE_LIMITED) before its token is even looked at. Kept
 * in memory, not in PostgreSQL: a flood of bad tokens must not become a flood of writes.
 * The first refusals of a minute are logged one by one, then one line per minute says how
 * many more there were.
 */
export class FailedAuthLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly perMinute: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.sweep(Date.now()), WINDOW_MS);
    this.timer.unref();
  }

  /** Seconds until the address may try again, or 0 when it may now. */
  retryAfterS(address: string): number {
    const window = this.windows.get(address);
    if (!window || window.count < this.perMinute) return 0;
    const left = window.start + WINDOW_MS - Date.now();
    return left <= 0 ? 0 : Math.ceil(left / 1000);
  }

  /** Counts one failure (and logs it, or counts it for the minute's summary line). */
  fail(address: string, fields: { transport: string; hasToken: boolean; reason?: string }): void {
    const now = Date.now();
    let window = this.windows.get(address);
    if (window && now - window.start >= WINDOW_MS) {
      this.summarise(address, window);
      window = undefined;
    }
    if (!window) {
      if (this.windows.size >= MAX_ADDRESSES) this.sweep(now);
      // Still full (a flood from many addresses at once): the oldest is forgotten.
      if (this.windows.size >= MAX_ADDRESSES) this.windows.delete(this.windows.keys().next().value!);
      window = { start: now, count: 0, transport: fields.transport };
      this.windows.set(address, window);
    }
    window.count++;
    if (window.count <= LOGGED_PER_WINDOW) this.log.warn({ ...fields, remoteAddress: address }, 'unauthenticated request refused');
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sweep(now: number): void {
    for (const [address, window] of this.windows) {
      if (now - window.start >= WINDOW_MS) {
        this.summarise(address, window);
        this.windows.delete(address);
      }
    }
  }

  private summarise(address: string, window: Window): void {
    if (window.count <= LOGGED_PER_WINDOW) return;
    this.log.warn(
      { remoteAddress: address, refused: window.count, notLogged: window.count - LOGGED_PER_WINDOW, windowS: WINDOW_MS / 1000, blocked: window.count >= this.perMinute },
      'unauthenticated requests refused in the last minute',
    );
  }
}
