import { mayRunMutations } from '../auth/access';
import type { Role } from '../config';
import type { MailingEventKind } from '../events/event.channel';
import { isOpen } from './end-time';
import type { MailingRow, MailingStatus } from './mailing.table';

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

/** The one status whose messages go out (the dispatcher claims for it alone). */
export const isSending = (status: MailingStatus): boolean => status === 'RUNNING';

/** Whether a request for one of its messages may start at `now` (ms, the database's clock): sending, and before its end. */
export const sendsAt = (mailing: { status: MailingStatus; endAt: number }, now: number): boolean => isSending(mailing.status) && isOpen(mailing.endAt, now);

/** Not started yet: it may still start, and whom it is for is still decided by its filter now. */
export const awaitsStart = (status: MailingStatus): boolean => TRANSITIONS.start.from.includes(status);

/** Whether an edit (updateMailing) may change anything of it: not once it is final. */
export const isEditable = (status: MailingStatus): boolean => !isFinal(status);

export type TransitionSubject = { status: MailingStatus; startAt: number; endAt: number };

/** A row as the guards read it (its times in ms). */
export const subjectOf = (mailing: Pick<MailingRow, 'status' | 'startAt' | 'endAt'>): TransitionSubject => ({
  status: mailing.status,
  startAt: mailing.startAt.getTime(),
  endAt: mailing.endAt.getTime(),
});

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

/** What an operator may ask of a mailing, each the mutation of that name. */
export const MAILING_ACTIONS = ['PAUSE', 'RESUME', 'CANCEL', 'EDIT', 'DELETE', 'DUPLICATE', 'RETRY_FAILED'] as const;
export type MailingAction = (typeof MAILING_ACTIONS)[number];

/**
 * What `role` may do with this mailing at `now` (ms), as its mutations would judge it: the
 * transitions' guards for PAUSE, RESUME, CANCEL and RETRY_FAILED (which also needs a FAILED
 * message: `failed`), the edit rule for EDIT; any mailing may be deleted or duplicated. A
 * role that may not run mutations may do nothing. The API lists it as `Mailing.actions`, so
 * that no client decides it again.
 */
export function actionsFor(mailing: TransitionSubject, role: Role, now: number, failed: number): MailingAction[] {
  if (!mayRunMutations(role)) return [];
  const may: Record<MailingAction, boolean> = {
    PAUSE: refusal('pause', mailing, now) === null,
    RESUME: refusal('resume', mailing, now) === null,
    CANCEL: refusal('cancel', mailing, now) === null,
    EDIT: isEditable(mailing.status),
    DELETE: true,
    DUPLICATE: true,
    RETRY_FAILED: failed > 0 && refusal('retry', mailing, now) === null,
  };
  return MAILING_ACTIONS.filter((action) => may[action]);
}

/** The transitions a timer brings about, at the mailing's startAt and its endAt. */
export type TimerKind = Extract<MailingTransition, 'start' | 'end'>;
export type Timer = { kind: TimerKind; at: Date };

/**
 * The timers a mailing needs now: one for each of `start` and `end` that its status may
 * still take (a scheduled mailing both, one under way its end, a final one none), at the
 * instant that transition waits for.
 */
export function timersNeeded(mailing: Pick<MailingRow, 'status' | 'startAt' | 'endAt'>): Timer[] {
  const timers: Timer[] = [];
  if (awaitsStart(mailing.status)) timers.push({ kind: 'start', at: mailing.startAt });
  if (TRANSITIONS.end.from.includes(mailing.status)) timers.push({ kind: 'end', at: mailing.endAt });
  return timers;
}
