/**
 * The database's clock as seen from this process: the end-time rule is judged on it, by
 * SQL's now() and by the dispatcher alike. The offset is learnt from timestamps the database
 * sends back (each claim reads clock_timestamp()), halving the round trip.
 */
export class DbClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** The database said `dbMs` in a round trip that began at `sentAt` and ended at `receivedAt` (local ms). */
  observe(dbMs: number, sentAt: number, receivedAt: number): void {
    this.offsetMs = dbMs - (sentAt + receivedAt) / 2;
  }
}
