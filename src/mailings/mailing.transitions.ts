import type { MailingEventKind } from '../events/event.channel';
import { isOpen } from './end-time';
import type { MailingStatus } from './mailing.table';

/**
 * A mailing's life, as one table: SCHEDULED → RUNNING at startAt → COMPLETED when every
 * message is final (`complete`) or endAt comes (`end`); PAUSED and CANCELLED by operators.
 * The guards are pure; mailing.lifecycle.ts applies a transition under the mailing's lock,
 * so that what a guard saw is what the write changes.
 */
export type MailingTransition = 'start' | 'pause' | 'resume' | 'cancel' | 'end' | 'complete' | 'retry';

type Rule = { from: readonly MailingStatus[]; to: MailingStatus; event: MailingEventKind };

export const TRANSITIONS: Record<MailingTransition, Rule> = {
  start: { from: ['SCHEDULED'], to: 'RUNNING', event: 'STARTED' },
  pause: { from: ['RUNNING'], to: 'PAUSED', event: 'PAUSED' },
  resume: { from: ['PAUSED'], to: 'RUNNING', event: 'RESUMED' },
  cancel: { from: ['SCHEDULED', 'RUNNING', 'PAUSED'], to: 'CANCELLED', event: 'CANCELLED' },
  end: { from: ['SCHEDULED', 'RUNNING', 'PAUSED'], to: 'COMPLETED', event: 'COMPLETED' },
  complete: { from: ['RUNNING'], to: 'COMPLETED', event: 'COMPLETED' },
  // Its FAILED messages are queued once more (retryFailed): a completed mailing runs again.
  retry: { from: ['RUNNING', 'COMPLETED'], to: 'RUNNING', event: 'RETRIED' },
};

/** The statuses a mailing never leaves. */
export const FINAL_STATUSES: readonly MailingStatus[] = ['COMPLETED', 'CANCELLED'];
const UNDER_WAY: readonly MailingStatus[] = ['RUNNING', 'PAUSED'];

/** A completed or cancelled mailing no longer changes. */
export const isFinal = (status: MailingStatus): boolean => FINAL_STATUSES.includes(status);

/** Started and not yet final: its text and end may change, not whom it is for or when it began. */
export const isUnderWay = (status: MailingStatus): boolean => UNDER_WAY.includes(status);

export type TransitionSubject = { status: MailingStatus; startAt: number; endAt: number };

/**
 * Why `transition` may not happen to this mailing at `now` (ms, the database's clock), or
 * null when it may. `complete` also needs every message final; the lifecycle checks the
 * counters for that.
 */
export function refusal(transition: MailingTransition, mailing: TransitionSubject, now: number): string | null {
  const rule = TRANSITIONS[transition];
  if (!rule.from.includes(mailing.status)) {
    return `mailing is ${mailing.status}; only a ${rule.from.join(' or ')} mailing can become ${rule.to}`;
  }
  if (transition === 'start' && mailing.startAt > now) return 'its startAt has not come';
  if (transition === 'start' && !isOpen(mailing.endAt, now)) return 'its endAt has passed';
  if (transition === 'end' && isOpen(mailing.endAt, now)) return 'its endAt has not come';
  if (transition === 'retry' && !isOpen(mailing.endAt, now)) return 'its endAt has passed';
  return null;
}
