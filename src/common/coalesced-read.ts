/**
 * A read that many callers may ask for at once, run once for all of them: a call made while
 * no read runs starts one; a call made while one runs waits for the next, which starts when
 * that one ends, shared by every call made meanwhile. So each answer was read after it was
 * asked for (never one begun before), and 16 dashboards asking at once cost two reads, not 16.
 * A failed read fails the calls that shared it, and the next call starts afresh.
 */
export function coalescedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  let next: Promise<T> | null = null;
  const start = (): Promise<T> => {
    const current = read();
    running = current;
    const done = () => {
      if (running === current) running = null;
    };
    current.then(done, done);
    return current;
  };
  return () => {
    if (!running) return start();
    next ??= running.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      next = null;
      return start();
    });
    return next;
  };
}
