import { normalizeClientFilter } from '../clients/client.filter';
import type { Db } from '../db/connection';
import { notifyMailing } from '../events/event.channel';
import { toPage, type Page, type PageRequest } from '../common/page';
import { ConflictError, NotFoundError, UserInputError } from '../common/errors';
import type { Logger } from '../logger';
import { toMessageStats, type MessageStatsValue } from '../messages/message.stats';
import { countsOf } from './mailing-stats.store';
import type { CreateMailingInput, UpdateMailingInput } from './mailing.input';
import * as lifecycle from './mailing.lifecycle';
import { lockMailing } from '../db/locks';
import * as store from './mailing.store';
import type { MailingRow, MailingStatus } from './mailing.table';
import type { MailingTimers } from './mailing.timers';
import { isFinal, isUnderWay, refusal } from './mailing.transitions';
import { validatePeriod, validateSendWindow, validateText } from './mailing.validation';

export type MailingDeps = { db: Db; log: Logger; timers: MailingTimers };

/**
 * A mailing whose startAt has come starts in the same transaction, so the answer already
 * says RUNNING (COMPLETED when nobody matches), and its first messages go out at once.
 */
export async function createMailing(deps: MailingDeps, input: CreateMailingInput, now = new Date()): Promise<MailingRow> {
  const text = validateText(input.text);
  validatePeriod(input.startAt, input.endAt, now);
  const filter = normalizeClientFilter(input.filter);
  const window = input.sendWindow ? validateSendWindow(input.sendWindow) : null;
  const began = performance.now();
  const { row, audience } = await deps.db.transaction(async (tx) => {
    const inserted = await store.insertMailing(tx, {
      text,
      startAt: input.startAt,
      endAt: input.endAt,
      filterOperatorCodes: filter.operatorCodes,
      filterTags: filter.tags,
      filterTagMatch: filter.tagMatch,
      sendWindowFrom: window?.fromMinute ?? null,
      sendWindowTo: window?.toMinute ?? null,
    });
    await tx.execute(notifyMailing(inserted.id, 'CREATED', inserted.status));
    await lockMailing(tx, inserted.id);
    const found = await store.findForTransition(tx, inserted.id);
    const due = found && refusal('start', { status: inserted.status, startAt: inserted.startAt.getTime(), endAt: inserted.endAt.getTime() }, found.now) === null;
    if (!due) return { row: inserted, audience: null };
    const started = await lifecycle.startLocked(tx, inserted.id);
    return { row: started.mailing, audience: started.audience };
  });
  deps.log.info({ mailingId: row.id, startAt: row.startAt, endAt: row.endAt, filter, sendWindow: input.sendWindow ?? null }, 'mailing created');
  if (audience !== null) lifecycle.logStart(deps.log, row.id, audience, began);
  await setTimers(deps, row);
  return row;
}

/**
 * Absent fields keep their value. A finished mailing (completed, cancelled) no longer
 * changes; one under way may change its text and end (applied to the messages not yet
 * sent), not whom it is for or when it began.
 */
export async function updateMailing(deps: MailingDeps, id: number, input: UpdateMailingInput, now = new Date()): Promise<MailingRow> {
  const patch: Partial<store.MailingValues> = {};
  if (input.text != null) patch.text = validateText(input.text);
  if (input.startAt != null) patch.startAt = input.startAt;
  if (input.endAt != null) patch.endAt = input.endAt;
  if (input.filter != null) {
    const filter = normalizeClientFilter(input.filter);
    patch.filterOperatorCodes = filter.operatorCodes;
    patch.filterTags = filter.tags;
    patch.filterTagMatch = filter.tagMatch;
  }
  if (input.sendWindow !== undefined) {
    const window = input.sendWindow === null ? null : validateSendWindow(input.sendWindow);
    patch.sendWindowFrom = window?.fromMinute ?? null;
    patch.sendWindowTo = window?.toMinute ?? null;
  }

  const row = await deps.db.transaction(async (tx) => {
    // Under the mailing's lock: once the edit returns, no claim hands out a message with the
    // old text or end.
    await lockMailing(tx, id);
    const current = await store.findMailingForUpdate(tx, id);
    if (!current) throw new NotFoundError('mailing', id);
    if (Object.keys(patch).length === 0) return current;
    if (isFinal(current.status)) {
      throw new ConflictError(`mailing ${id} is ${current.status.toLowerCase()} and can no longer change`);
    }
    if (isUnderWay(current.status)) {
      if (patch.startAt && patch.startAt.getTime() !== current.startAt.getTime()) {
        throw new UserInputError('startAt', 'cannot change once the mailing has started');
      }
      const sameFilter =
        patch.filterOperatorCodes === undefined ||
        (sameItems(patch.filterOperatorCodes, current.filterOperatorCodes) &&
          sameItems(patch.filterTags!, current.filterTags) &&
          patch.filterTagMatch === current.filterTagMatch);
      if (!sameFilter) throw new UserInputError('filter', 'cannot change once the mailing has started');
    }
    if (patch.startAt || patch.endAt) {
      validatePeriod(patch.startAt ?? current.startAt, patch.endAt ?? current.endAt, now);
    }
    const updated = await store.updateMailing(tx, id, patch);
    await tx.execute(notifyMailing(id, 'UPDATED', updated.status));
    return updated;
  });
  deps.log.info({ mailingId: id, fields: Object.keys(patch) }, 'mailing updated');
  if (patch.startAt || patch.endAt) await setTimers(deps, row);
  return row;
}

/** Removes the mailing with its messages; no request for it starts after this returns. */
export async function deleteMailing(deps: MailingDeps, id: number): Promise<true> {
  await lifecycle.deleteMailing(deps.db, deps.log, id);
  return true;
}

export const pauseMailing = (deps: MailingDeps, id: number) => lifecycle.pauseMailing(deps.db, deps.log, id);
export const resumeMailing = (deps: MailingDeps, id: number) => lifecycle.resumeMailing(deps.db, deps.log, id);
export const cancelMailing = (deps: MailingDeps, id: number) => lifecycle.cancelMailing(deps.db, deps.log, id);

/** One mailing with its statistics, read in one query. */
export async function findMailing(db: Db, id: number): Promise<{ mailing: MailingRow; stats: MessageStatsValue } | null> {
  const row = await store.findMailingWithCounts(db, id);
  if (!row) return null;
  return { mailing: row.mailing, stats: toMessageStats(row.counts ? countsOf(row.counts) : {}) };
}

export async function listMailings(db: Db, status: MailingStatus | null, req: PageRequest): Promise<Page<MailingRow>> {
  const rows = await store.listMailings(db, status, req);
  return toPage(rows, req, () => store.countMailings(db, status));
}

/**
 * The mailing is written; its timers follow. Should setting them fail, the mailing is not
 * lost: the timer sweep finds overdue mailings in the rows and starts or ends them.
 */
async function setTimers(deps: MailingDeps, row: MailingRow): Promise<void> {
  try {
    await deps.timers.mailingChanged(row);
  } catch (err) {
    deps.log.error({ err, mailingId: row.id }, 'setting the mailing\'s timers failed; the sweep will catch it up');
  }
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}
