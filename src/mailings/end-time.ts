/**
 * The end-time rule, in one place: nothing is sent at or after a mailing's endAt. The claim
 * (which hands out no message of an ended mailing), each request's deadline, the expiry of
 * what is left and the writing of results all ask here. Times are ms on the database's
 * clock: SQL reads now() and the dispatcher keeps its offset to it (db/clock.ts), so that
 * Herald processes on several machines agree on when a mailing ends.
 */

/** Whether a request for a message of a mailing ending at `endAt` may still start at `now`. */
export const isOpen = (endAt: number, now: number): boolean => now < endAt;

/** A request starting at `now` must be answered by this instant, or it is abandoned. */
export const requestDeadline = (endAt: number, now: number, timeoutMs: number): number => Math.min(now + timeoutMs, endAt);

/** Whether a next attempt planned for `at` (a retry, a send window's opening) can still happen. */
export const canTryAt = (at: number, endAt: number): boolean => at < endAt;

/** The error a message keeps when the mailing ends before it went out. */
export const ENDED_UNSENT = 'the mailing ended before it could be sent';
