import { closeAudience, createAudience } from './audience.store';
import { deleteLeasesOf, takeOrphanedLeases } from '../dispatch/claim.store';
import { releaseUnsentCapPlaces } from './frequency-ledger.store';
import { forgetRecentOutcomes } from './mailing-stats.store';
import type { Db } from '../db/connection';
import { lockMailing } from '../db/locks';
import { notifyMailing } from '../events/event.channel';
import { ConflictError, NotFoundError } from '../common/errors';
import type { Logger } from '../logger';
import { closeUnsent, deleteMessagesOf, requeueFailed, settleUnsent } from '../messages/message.store';
import { ENDED_UNSENT } from './end-time';
import * as store from './mailing.store';
import type { MailingRow } from './mailing.table';
import { isFinal, refusal, subjectOf, TRANSITIONS, type MailingTransition } from './mailing.transitions';

/**
 * Applies the transitions of mailing.transitions.ts with their effects. Each runs in one
 * transaction that holds the mailing's exclusive lock (db/locks.ts): it waits for the
 * claims and result writes of the mailing under way, and every claim after it sees the new
 * status. So once pause, cancel, expiry or delete returns, no request for the mailing
 * starts; requests already started finish and their results are written by the status they
 * then find (a retry of a cancelled mailing's message is CANCELLED, of an ended one EXPIRED).
 */

type Locked = { mailing: MailingRow; now: number };

/**
 * The mailing, locked, if `transition` may happen to it now. An operator's request is
 * refused with NOT_FOUND or CONFLICT; a timer's (`quietly`) is a stale or repeated job and
 * does nothing.
 */
async function lockFor(tx: Db, id: number, transition: MailingTransition, quietly: boolean): Promise<Locked | null> {
  await lockMailing(tx, id);
  const found = await store.findForTransition(tx, id);
  if (!found) {
    if (quietly) return null;
    throw new NotFoundError('mailing', id);
  }
  const { mailing, now } = found;
  const why = refusal(transition, subjectOf(mailing), now);
  if (why) {
    if (quietly) return null;
    throw new ConflictError(`mailing ${id}: ${why}`);
  }
  return found;
}

/** What `pausedBy` says of a mailing that paused itself (the failure-share auto-pause). */
export const PAUSED_BY_HERALD = 'Herald itself';

async function write(tx: Db, id: number, transition: MailingTransition, pause: store.PauseNote | null = null): Promise<MailingRow> {
  const { to, event } = TRANSITIONS[transition];
  const row = await store.setStatus(tx, id, to, pause);
  await tx.execute(notifyMailing(id, event, to));
  return row;
}

/**
 * Starts a mailing inside the caller's transaction, which holds its lock: RUNNING, with its
 * audience fixed now; COMPLETED at once when nobody matches.
 */
export async function startLocked(tx: Db, id: number): Promise<{ mailing: MailingRow; audience: number }> {
  let mailing = await write(tx, id, 'start');
  const audience = await createAudience(tx, id);
  if (audience === 0) mailing = await write(tx, id, 'complete');
  return { mailing, audience };
}

/** A mailing whose startAt has come (its timer, or the sweep): starts it, once. */
export async function startMailing(db: Db, log: Logger, id: number): Promise<{ audience: number } | null> {
  const started = performance.now();
  const result = await db.transaction(async (tx) => ((await lockFor(tx, id, 'start', true)) ? startLocked(tx, id) : null));
  if (result) logStart(log, id, result.audience, started);
  return result && { audience: result.audience };
}

export function logStart(log: Logger, id: number, audience: number, startedAt: number): void {
  log.info({ mailingId: id, audience, startMs: Math.round(performance.now() - startedAt) }, 'mailing started');
  if (audience === 0) log.info({ mailingId: id }, 'mailing completed: no client matches its filter');
}

/** Told of the messages a mailing's end or cancellation gave their final status at once (metrics). */
export type SettledObserver = (settled: Partial<Record<'EXPIRED' | 'CANCELLED' | 'SKIPPED', number>>) => void;

/**
 * A mailing whose end has come: COMPLETED, and every message not yet sent EXPIRED — pending
 * retries, the audience never handed out, and what a vanished dispatcher held.
 */
export async function endMailing(db: Db, log: Logger, id: number, onSettled?: SettledObserver): Promise<{ expired: number } | null> {
  const ended = await db.transaction(async (tx) => {
    if (!(await lockFor(tx, id, 'end', true))) return null;
    await write(tx, id, 'end');
    const expired = await settleUnsent(tx, id, 'expire', ENDED_UNSENT);
    const closed = await closeMessages(tx, id, 'expire');
    await releaseUnsentCapPlaces(tx, id);
    return { expired: expired + closed.written - closed.skipped, skipped: closed.skipped };
  });
  if (!ended) return null;
  onSettled?.({ EXPIRED: ended.expired, SKIPPED: ended.skipped });
  log.info({ mailingId: id, expired: ended.expired, skipped: ended.skipped }, 'mailing ended at its end time');
  return { expired: ended.expired };
}

/** Operator transitions: pause, resume, cancel. Each returns the updated mailing. A pause keeps who asked (`by`, the principal's id) and when. */
export async function pauseMailing(db: Db, log: Logger, id: number, by: string): Promise<MailingRow> {
  // Nothing else to write: a claim hands out nothing of a mailing that is not RUNNING, and
  // retries keep their schedule for the resume.
  const row = await db.transaction(async (tx) => {
    await lockFor(tx, id, 'pause', false);
    return write(tx, id, 'pause', { by, reason: null });
  });
  log.info({ mailingId: id, pausedBy: by }, 'mailing paused');
  return row;
}

export async function resumeMailing(db: Db, log: Logger, id: number): Promise<MailingRow> {
  const row = await db.transaction(async (tx) => {
    await lockFor(tx, id, 'resume', false);
    await write(tx, id, 'resume');
    await forgetRecentOutcomes(tx, id);
    // Paused after its last result: nothing is left to send, so nothing would complete it.
    return (await store.allFinal(tx, id)) ? write(tx, id, 'complete') : store.findMailing(tx, id).then((m) => m!);
  });
  log.info({ mailingId: id, status: row.status }, 'mailing resumed');
  return row;
}

/** Cancelled for good: the history stays, and every message not yet sent becomes CANCELLED. */
export async function cancelMailing(db: Db, log: Logger, id: number, onSettled?: SettledObserver): Promise<MailingRow> {
  let cancelled = 0;
  const row = await db.transaction(async (tx) => {
    await lockFor(tx, id, 'cancel', false);
    const mailing = await write(tx, id, 'cancel');
    cancelled = (await settleUnsent(tx, id, 'cancel', null)) + (await closeMessages(tx, id, 'cancel')).written;
    await releaseUnsentCapPlaces(tx, id);
    return mailing;
  });
  onSettled?.({ CANCELLED: cancelled });
  log.info({ mailingId: id, cancelledMessages: cancelled }, 'mailing cancelled');
  return row;
}

/**
 * A running mailing whose last results failed too often pauses itself (as listmonk does on
 * an error threshold), so that a wrong text or a broken sender burns no more of its
 * audience; it says why, and resumes only by hand.
 */
export async function autoPause(db: Db, log: Logger, id: number, reason: string): Promise<boolean> {
  const paused = await db.transaction(async (tx) => {
    if (!(await lockFor(tx, id, 'pause', true))) return false;
    await write(tx, id, 'pause', { by: PAUSED_BY_HERALD, reason });
    return true;
  });
  if (paused) log.warn({ mailingId: id, reason }, 'mailing paused itself');
  return paused;
}

/**
 * Queues the mailing's FAILED messages once more, due at once (a running mailing, or a
 * completed one whose end has not passed: it runs again). Refused when it has none.
 */
export async function retryFailed(db: Db, log: Logger, id: number): Promise<MailingRow> {
  let retried = 0;
  const row = await db.transaction(async (tx) => {
    await lockFor(tx, id, 'retry', false);
    retried = await requeueFailed(tx, id);
    if (retried === 0) throw new ConflictError(`mailing ${id} has no FAILED messages to retry`);
    await forgetRecentOutcomes(tx, id);
    return write(tx, id, 'retry');
  });
  log.info({ mailingId: id, retried }, 'failed messages queued again');
  return row;
}

/** Removes the mailing and everything of it; no request for it starts after this returns. */
export async function deleteMailing(db: Db, log: Logger, id: number): Promise<void> {
  await db.transaction(async (tx) => {
    await lockMailing(tx, id);
    await releaseUnsentCapPlaces(tx, id);
    // Its messages and leases by hand: they have no foreign key to cascade from (see messages.mailing_id).
    await deleteMessagesOf(tx, id);
    await deleteLeasesOf(tx, id);
    if (!(await store.deleteMailing(tx, id))) throw new NotFoundError('mailing', id);
    await tx.execute(notifyMailing(id, 'DELETED', null));
  });
  log.info({ mailingId: id }, 'mailing deleted');
}

/** Of these mailings, marks COMPLETED the running ones whose every message is final. */
export async function completeFinished(db: Db, log: Logger, ids: readonly number[]): Promise<number[]> {
  const completed: number[] = [];
  for (const id of await store.runningAndAllFinal(db, ids)) {
    const done = await db.transaction(async (tx) => {
      if (!(await lockFor(tx, id, 'complete', true)) || !(await store.allFinal(tx, id))) return false;
      await write(tx, id, 'complete');
      return true;
    });
    if (done) {
      completed.push(id);
      log.info({ mailingId: id }, 'mailing completed: every message reached a final status');
    }
  }
  return completed;
}

/** A finished mailing may still hold members of a vanished dispatcher's leases: they get their final status. */
export async function closeOrphans(db: Db, log: Logger, id: number, onSettled?: SettledObserver): Promise<void> {
  const { status, written, skipped } = await db.transaction(async (tx) => {
    await lockMailing(tx, id);
    const found = await store.findForTransition(tx, id);
    if (!found || !isFinal(found.mailing.status)) return { status: 'EXPIRED' as const, written: 0, skipped: 0 };
    const cancelled = found.mailing.status === 'CANCELLED';
    return { status: cancelled ? ('CANCELLED' as const) : ('EXPIRED' as const), ...(await closeMessages(tx, id, cancelled ? 'cancel' : 'expire')) };
  });
  if (written === 0) return;
  onSettled?.({ [status]: written - skipped, SKIPPED: skipped });
  log.info({ mailingId: id, messages: written }, 'messages of a vanished dispatcher given their final status');
}

/**
 * The members of a mailing that is over who never went out get their final status: those
 * never handed out (its audience is closed), and those of leases whose holder is gone.
 */
async function closeMessages(tx: Db, id: number, event: 'expire' | 'cancel'): Promise<{ written: number; skipped: number }> {
  const members = await closeAudience(tx, id);
  const orphans = await takeOrphanedLeases(tx, id);
  return closeUnsent(tx, id, event, event === 'expire' ? ENDED_UNSENT : null, members, orphans);
}
