/**
 * An async iterable fed by pushes, holding at most `capacity` items: when a consumer stops
 * reading, the oldest items are dropped (and counted) instead of memory growing. With
 * capacity 1 it keeps only the latest item, which suits snapshots.
 */
export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private closed = false;
  dropped = 0;
  /**
   * Each item is the whole value as it is now (a mailing's progress, the statistics), not a
   * change: whoever starts reading late needs only the latest one. The websocket's fan-out
   * gives such a stream's latest result to a subscriber that joins it (subscription.fanout.ts).
   */
  snapshots = false;

  constructor(
    private readonly capacity: number,
    private readonly onClose: () => void = () => {},
    private readonly onFirstDrop: () => void = () => {},
  ) {}

  push(item: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      return resolve({ value: item, done: false });
    }
    this.items.push(item);
    if (this.items.length > this.capacity) {
      this.items.shift();
      if (this.dropped++ === 0) this.onFirstDrop();
    }
  }

  /** Ends the iteration once what is queued has been read. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.waiting && this.items.length === 0) {
      this.waiting({ value: undefined, done: true });
      this.waiting = null;
    }
    this.onClose();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/** Whether a subscription's event stream is one of snapshots (see BoundedQueue.snapshots). */
export function isSnapshotStream(stream: unknown): boolean {
  return stream instanceof BoundedQueue && stream.snapshots;
}
