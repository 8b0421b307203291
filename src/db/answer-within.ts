/** A database call given up on: it gave no answer in time (see answerWithin). */
export class NoAnswerError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: the database gave no answer within ${ms} ms; given up, to be tried again`);
    this.name = 'NoAnswerError';
  }
}

/**
 * `work`, or a NoAnswerError once `ms` have passed without an answer. Why: a connection reset
 * in the middle of a transaction can leave a postgres.js promise that never settles (seen in
 * about 1 run in 8 of tests/db-outage.test.ts: the dispatcher waited on it for good, and sent
 * nothing more). PostgreSQL ends such a transaction by itself (its statement and
 * idle-in-transaction timeouts), so the caller may give up on it and try again.
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
