import { finishedMailingsWithOrphanLeases } from '../dispatch/claim.store';
import type { Db } from '../db/connection';
import type { Logger } from '../logger';
import { closeOrphans, endMailing, startMailing, type SettledObserver } from './mailing.lifecycle';
import { pruneCapPlaces } from './frequency-ledger.store';
import { overdueMailings } from './mailing.store';
import type { MailingRow } from './mailing.table';

/**
 * What mailings need from a timer service (timers/timer.pgboss.ts implements it): to be
 * told a mailing's times, so that its start and end handlers run when they come.
 */
export interface MailingTimers {
  mailingChanged(mailing: MailingRow): Promise<void>;
}

/** What the timers run, in a worker process. */
export type MailingTimerHandlers = {
  start: (mailingId: number) => Promise<void>;
  end: (mailingId: number) => Promise<void>;
  /** starts and ends whatever is overdue (a timer lost while no process ran), and tidies up */
  sweep: () => Promise<void>;
};

/**
 * The timers' handlers. Each is a transition that happens once however often it is asked
 * for, so a stale job (the mailing's times moved since) or a duplicate does nothing.
 * `onStarted` hears of every start (the dispatcher looks for work at once), `onSettled` of
 * the messages an end gives their final status (metrics).
 */
export function mailingTimerHandlers(db: Db, log: Logger, onStarted: (mailingId: number) => void, onSettled?: SettledObserver): MailingTimerHandlers {
  const start = async (id: number) => {
    if (await startMailing(db, log, id)) onStarted(id);
  };
  const end = async (id: number) => void (await endMailing(db, log, id, onSettled));
  return {
    start,
    end,
    sweep: async () => {
      const { toStart, toEnd } = await overdueMailings(db);
      for (const id of toEnd) await end(id);
      for (const id of toStart) await start(id);
      for (const id of await finishedMailingsWithOrphanLeases(db)) await closeOrphans(db, log, id, onSettled);
      await pruneCapPlaces(db);
    },
  };
}
