import { logRepeated, type Logger } from '../logger';
import type { ResultRow } from '../messages/message.store';
import type { ClaimStore, FailingMailing, ResultBatch } from './dispatch.ports';

type Queued = { row: ResultRow; leaseId: number | null; capped: boolean };

/** Results one group commit writes at most; also what may wait unwritten before claims stop (Dispatcher). */
export const MAX_BATCH = 2_000;
const RETRY_MS = [100, 250, 500, 1_000, 2_000];

/**
 * Commits results as they come, in groups: the first result waiting starts a `flushMs`
 * timer, and everything queued by then goes into one transaction (group commit), so an
 * answer is in the database, the statistics and the live events within about flushMs, and
 * a crash loses at most that interval's answers (those messages are sent again, under their
 * ids). One flush at a time. A flush that fails (the database is away) keeps its results and
 * tries again; they are never dropped while the process lives.
 *
 * It also knows, per lease, how many of its messages still lack a row, so that the claim
 * store drops a lease in the same transaction that writes its last one (which also gives
 * back the frequency-cap places of messages that will not be sent after all, and keeps each
 * mailing's window of its last results, telling which now fail too often).
 */
export class ResultWriter {
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private failures = 0;
  private readonly leaseLeft = new Map<number, number>();

  constructor(
    private readonly store: ClaimStore,
    private readonly log: Logger,
    private readonly flushMs: number,
    /** how a mailing's failure rate is judged (its window of last results) */
    private readonly failureRate: ResultBatch['failureRate'],
    /** told after each commit which mailings it touched (to see whether they are done) and which fail too often */
    private readonly onCommitted: (mailingIds: number[], failing: FailingMailing[]) => void,
    /** told each committed result once (metrics) */
    private readonly onWritten?: (rows: readonly ResultRow[]) => void,
  ) {}

  /** `count` messages of a lease are out; the lease goes once each has a row. */
  trackLease(leaseId: number, count: number): void {
    this.leaseLeft.set(leaseId, (this.leaseLeft.get(leaseId) ?? 0) + count);
  }

  /** Leases with messages still unwritten (given back at a stop). */
  get openLeases(): number {
    return this.leaseLeft.size;
  }

  add(row: ResultRow, leaseId: number | null, capped = false): void {
    this.queue.push({ row, leaseId, capped });
    if (this.queue.length >= MAX_BATCH) this.flushSoon(0);
    else this.flushSoon(this.flushMs);
  }

  /** Whether the last write failed (the database is away): its results wait to be tried again. */
  get failing(): boolean {
    return this.failures > 0;
  }

  /** Results waiting to be written. */
  get backlog(): number {
    return this.queue.length;
  }

  /**
   * Writes everything queued, now (at a stop), trying for up to `timeoutMs`: a process
   * stopped while its database is away cannot write its last results, and must not hang
   * for it. Those messages are sent again after their lease, as after a crash.
   */
  async drain(timeoutMs = 10_000): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + timeoutMs;
    while ((this.flushing || this.queue.length > 0) && Date.now() < deadline) {
      const left = Math.max(0, deadline - Date.now());
      const flushing = this.flushing ?? this.flush();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        flushing.catch(() => new Promise((r) => setTimeout(r, Math.min(200, left)))),
        new Promise((r) => (timer = setTimeout(r, left))),
      ]);
      clearTimeout(timer);
    }
    if (this.queue.length > 0 || this.flushing) this.log.warn({ results: this.queue.length }, 'stopping with results not written (the database is away); they are sent again after their lease');
  }

  private flushSoon(ms: number): void {
    if (this.flushing) return; // the flush under way schedules the next
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => {});
    }, ms);
  }

  private flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return Promise.resolve();
    this.flushing = this.write(batch).then(
      ({ mailingIds, failing }) => {
        this.failures = 0;
        this.flushing = null;
        this.onCommitted(mailingIds, failing);
        if (this.queue.length > 0) this.flushSoon(this.queue.length >= MAX_BATCH ? 0 : this.flushMs);
      },
      (err) => {
        // Kept, in front, and tried again with a growing pause.
        this.queue.unshift(...batch);
        this.flushing = null;
        const wait = RETRY_MS[Math.min(this.failures++, RETRY_MS.length - 1)];
        logRepeated(this.log, 'error', { err, results: batch.length, retryInMs: wait }, 'writing results failed; trying again');
        this.flushSoon(wait);
        throw err;
      },
    );
    return this.flushing;
  }

  private async write(batch: Queued[]): Promise<{ mailingIds: number[]; failing: FailingMailing[] }> {
    const mailingIds = [...new Set(batch.map((q) => q.row.mailingId))];
    const released: number[] = [];
    const left = new Map<number, number>();
    for (const { leaseId } of batch) {
      if (leaseId === null) continue;
      const n = (left.get(leaseId) ?? this.leaseLeft.get(leaseId) ?? 0) - 1;
      left.set(leaseId, n);
    }
    for (const [leaseId, n] of left) if (n <= 0) released.push(leaseId);
    const { written, failing } = await this.store.commitResults({
      results: batch,
      releasedLeases: released,
      failureRate: this.failureRate,
    });
    // Told only once committed: a failed write is tried again, and its results are told then.
    this.onWritten?.(written);
    // Counted down only once committed: a failed write is tried again with the same counts.
    for (const [leaseId, n] of left) {
      if (n > 0) this.leaseLeft.set(leaseId, n);
      else this.leaseLeft.delete(leaseId);
    }
    return { mailingIds, failing };
  }
}
