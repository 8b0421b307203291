/** A database call given up on: it gave no answer in time (see answerWithin). */
export class NoAnswerError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: the database gave no answer within ${ms} ms; given up, to be tried again`);
    this.name = 'NoAnswerError';
  }
}

/**
 * `work`, or a NoAnswerError once `ms` have passed without an answer. Why: the dispatcher's
 * loop awaits its claims, its reads and its result writes one at a time, so a database call
 * that never settles (a driver fault of the kind patches/postgres+3.4.9.patch mends, on a
 * connection that went away under it) would stop sending for good, with no error to log.
 * PostgreSQL ends such a transaction by itself (its statement and idle-in-transaction
 * timeouts), and result writes may be repeated, so the caller may give up and try again.
 */
export async function answerWithin<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new NoAnswerError(what, ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
