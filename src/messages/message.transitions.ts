import { sql, type SQL } from 'drizzle-orm';
import { ENDED_UNSENT } from '../mailings/end-time';
import type { MailingStatus } from '../mailings/mailing.table';
import { MESSAGE_STATUSES, type MessageStatus } from './message.table';

/**
 * A message's life, as one table: status × event → status. A member of a started mailing's
 * audience is PENDING from the start, whether it has a row yet or not (a first result
 * creates the row); a request's answer, its mailing's end or cancellation, and an operator's
 * retry move it on. message.store.ts applies these events, and nothing else writes a
 * message's status (the SQL it runs is generated from this table, see `mayBecomeSql`).
 * A provider's receipt moves a SENT message on to DELIVERED or UNDELIVERED, and nothing else does.
 *
 * What may still change once a mailing has ended is in here too: SENT is always written,
 * since the gateway accepted the message and the history must say so even if the mailing
 * ended while the answer was on its way; anything else leaves a final message as it is.
 */
export type MessageEvent =
  /** the gateway accepted it */
  | 'send'
  /** the gateway refused it as invalid: retrying will not help */
  | 'reject'
  /** to be tried again later (a retryable answer, a send window not yet open) */
  | 'retry'
  /** left out: its phone opted out, or its client is over a frequency cap */
  | 'skip'
  /** it cannot go out before its mailing ends */
  | 'expire'
  /** its mailing was cancelled */
  | 'cancel'
  /** an operator queued its mailing's FAILED messages once more (retryFailed) */
  | 'requeue'
  /** the provider's receipt: it reached the phone */
  | 'deliver'
  /** the provider's receipt: it did not (undelivered, expired at the SMSC, rejected, deleted, unknown) */
  | 'undeliver';

type Rule = { from: readonly MessageStatus[]; to: MessageStatus };

export const MESSAGE_TRANSITIONS: Record<MessageEvent, Rule> = {
  send: { from: ['PENDING', 'EXPIRED', 'CANCELLED'], to: 'SENT' },
  reject: { from: ['PENDING'], to: 'FAILED' },
  retry: { from: ['PENDING'], to: 'PENDING' },
  skip: { from: ['PENDING'], to: 'SKIPPED' },
  expire: { from: ['PENDING'], to: 'EXPIRED' },
  cancel: { from: ['PENDING'], to: 'CANCELLED' },
  requeue: { from: ['FAILED'], to: 'PENDING' },
  // A receipt moves only a SENT message, once: a second receipt for a final status changes
  // nothing, and a mailing's end or cancellation does not stop receipts of what it sent.
  deliver: { from: ['SENT'], to: 'DELIVERED' },
  undeliver: { from: ['SENT'], to: 'UNDELIVERED' },
};

/** The statuses a message is in once its story is told (nothing of its own mailing moves it on). */
export const FINAL_MESSAGE_STATUSES: readonly MessageStatus[] = MESSAGE_STATUSES.filter((s) => s !== 'PENDING');

/** The event a result of this status stands for (a dispatcher's result names its status). */
const EVENT_OF_RESULT: Record<Exclude<MessageStatus, never>, MessageEvent> = {
  SENT: 'send',
  FAILED: 'reject',
  PENDING: 'retry',
  SKIPPED: 'skip',
  EXPIRED: 'expire',
  CANCELLED: 'cancel',
  DELIVERED: 'deliver',
  UNDELIVERED: 'undeliver',
};

/** Whether a message now `from` may be written `to` by a result. */
export function mayBecome(from: MessageStatus, to: MessageStatus): boolean {
  return MESSAGE_TRANSITIONS[EVENT_OF_RESULT[to]].from.includes(from);
}

/** The statuses a message may be in for `event` to apply to it. */
export const fromOf = (event: MessageEvent): readonly MessageStatus[] => MESSAGE_TRANSITIONS[event].from;

/**
 * A result written after its mailing moved on: SENT and FAILED stand (they happened), but a
 * message that would be tried again cannot be once its mailing is cancelled (CANCELLED) or
 * over (EXPIRED).
 */
export function settleForMailing<R extends { status: MessageStatus; error: string | null }>(result: R, mailingStatus: MailingStatus): R {
  if (result.status !== 'PENDING') return result;
  if (mailingStatus === 'CANCELLED') return { ...result, status: MESSAGE_TRANSITIONS.cancel.to };
  if (mailingStatus === 'COMPLETED') return { ...result, status: MESSAGE_TRANSITIONS.expire.to, error: result.error ?? ENDED_UNSENT };
  return result;
}

/** Statuses as a literal SQL list (`'PENDING', 'SENT'`): they come from MESSAGE_STATUSES, never from input. */
export const statusListSql = (statuses: readonly MessageStatus[]): SQL => sql.raw(statuses.map((s) => `'${s}'`).join(', '));

/**
 * The table's rule for a result as SQL, for the one statement that writes results in bulk:
 * the row `current` (its status column) may take the status `next` (an expression). Built
 * once from MESSAGE_TRANSITIONS, so that the SQL cannot drift from the table; tests pin the
 * two together (tests/message-store.test.ts).
 */
export function mayBecomeSql(current: SQL, next: SQL): SQL {
  // Results grouped by the statuses they may overwrite: one clause per distinct set.
  const byFrom = new Map<string, MessageStatus[]>();
  for (const to of MESSAGE_STATUSES) {
    const key = MESSAGE_TRANSITIONS[EVENT_OF_RESULT[to]].from.join(',');
    byFrom.set(key, [...(byFrom.get(key) ?? []), to]);
  }
  const clauses = [...byFrom].map(
    ([from, tos]) => sql`(${next} in (${statusListSql(tos)}) and ${current} in (${statusListSql(from.split(',') as MessageStatus[])}))`,
  );
  return sql`(${sql.join(clauses, sql` or `)})`;
}
