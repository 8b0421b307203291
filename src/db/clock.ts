/**
 * The database's clock as seen from this process: the end-time rule is judged on it, by
 * SQL's now() and by the dispatcher alike. The offset is learnt from timestamps the database
 * sends back (each claim reads clock_timestamp()), and it is the latest the database's clock
 * can be: the timestamp was read after `sentAt`, so the database's time at `sentAt` was at
 * most `dbMs`. Halving the round trip would assume the read came half-way; a claim reads it
 * early and then works on (longer through PgBouncer), so the midpoint put this clock behind the
 * database's by up to half the claim, and a request could start a few ms after endAt.
 * Erring late keeps "nothing at or after endAt" (it stops sending at most one claim's first
 * statements early).
 */
export class DbClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** The database said `dbMs` in a round trip that began at `sentAt` (local ms, before the statement was sent). */
  observe(dbMs: number, sentAt: number): void {
    this.offsetMs = dbMs - sentAt;
  }
}
