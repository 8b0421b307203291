import type { Delivery } from './dispatch.ports';
import { canTryAt, ENDED_UNSENT, isOpen } from '../mailings/end-time';
import { nextOpening, type SendWindow } from '../mailings/send-window';
import { retryDelay } from './backoff';

/**
 * What becomes of a message, decided in one place from what is known about it: before a
 * request (its mailing's end, its client's send window) and after one (the gateway's
 * answer). Pure: the dispatcher applies it, flow control hears the outcome separately.
 */
export type Fate =
  /** left out: its phone opted out after the mailing started, or its client is over a frequency cap */
  | { status: 'SKIPPED'; error: string; nextAttemptAt: null }
  /** accepted by the gateway */
  | { status: 'SENT'; error: null; nextAttemptAt: null }
  /** refused as invalid: retrying will not help */
  | { status: 'FAILED'; error: string; nextAttemptAt: null }
  /** tried again at nextAttemptAt */
  | { status: 'PENDING'; error: string | null; nextAttemptAt: number }
  /** cannot go out before its mailing ends */
  | { status: 'EXPIRED'; error: string; nextAttemptAt: null };

export type RetryPolicy = {
  retryBaseMs: number;
  retryMaxMs: number;
  /** while the gateway answers 401/403, the next probe this much later */
  authProbeMs: number;
};

/** Before sending at `now`: null to send now, or the message is skipped (its phone opted out), waits for its window, or expires. */
export function fateBeforeSending(now: number, endAt: number, timezone: string, window: SendWindow | null, optedOut = false): Fate | null {
  if (optedOut) return SKIPPED_OPTED_OUT;
  if (!isOpen(endAt, now)) return { status: 'EXPIRED', error: ENDED_UNSENT, nextAttemptAt: null };
  const opening = nextOpening(now, timezone, window);
  if (opening <= now) return null;
  if (!canTryAt(opening, endAt)) return { status: 'EXPIRED', error: 'no send window left before the mailing ended', nextAttemptAt: null };
  return { status: 'PENDING', error: null, nextAttemptAt: opening };
}

/**
 * After attempt number `attempt` ended at `now` with `outcome` (or no provider could take the
 * message now: `deferred`, not an attempt). `retryCapMs` (from the provider's flow control,
 * while it fails as a whole) caps the backoff.
 */
export function fateAfter(
  outcome: Delivery['outcome'],
  attempt: number,
  now: number,
  endAt: number,
  policy: RetryPolicy,
  retryCapMs: number | null,
  random: () => number = Math.random,
): Fate {
  switch (outcome.kind) {
    case 'sent':
      return SENT;
    case 'rejected':
      return { status: 'FAILED', error: outcome.error, nextAttemptAt: null };
    case 'unauthorized':
      return retry(outcome.error, now + policy.authProbeMs, endAt);
    case 'throttled':
      return retry(outcome.error, now + (outcome.retryAfterMs ?? backoff(attempt, policy, retryCapMs, random)), endAt);
    case 'retryable':
      return retry(outcome.error, now + backoff(attempt, policy, retryCapMs, random), endAt);
    case 'deferred':
      return retry(outcome.error, now + outcome.retryAfterMs, endAt);
  }
}

const SENT: Fate = { status: 'SENT', error: null, nextAttemptAt: null };
const SKIPPED_OPTED_OUT: Fate = { status: 'SKIPPED', error: 'opted out', nextAttemptAt: null };
/** A message whose client already had as many messages as its frequency cap allows in the window. */
export const SKIPPED_OVER_CAP: Fate = { status: 'SKIPPED', error: 'frequency cap', nextAttemptAt: null };

function backoff(attempt: number, policy: RetryPolicy, retryCapMs: number | null, random: () => number): number {
  return retryDelay(attempt, policy.retryBaseMs, Math.min(policy.retryMaxMs, retryCapMs ?? Infinity), random);
}

/** Tried again at `at`, or expired now when that is too late. */
function retry(error: string, at: number, endAt: number): Fate {
  return canTryAt(at, endAt) ? { status: 'PENDING', error, nextAttemptAt: at } : { status: 'EXPIRED', error, nextAttemptAt: null };
}
