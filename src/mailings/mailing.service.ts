import { normalizeClientFilter } from '../clients/client.filter';
import type { Db } from '../db/connection';
import { toPage, type Page, type PageRequest } from '../graphql/connection';
import { ConflictError, NotFoundError, UserInputError } from '../graphql/errors';
import type { Logger } from '../logger';
import type { CreateMailingInput, UpdateMailingInput } from './mailing.input';
import * as store from './mailing.store';
import type { MailingRow, MailingStatus } from './mailing.table';
import { validatePeriod, validateText } from './mailing.validation';

const FINAL: readonly MailingStatus[] = ['COMPLETED', 'CANCELLED'];
const UNDER_WAY: readonly MailingStatus[] = ['RUNNING', 'PAUSED'];

export async function createMailing(db: Db, log: Logger, input: CreateMailingInput, now = new Date()): Promise<MailingRow> {
  const text = validateText(input.text);
  validatePeriod(input.startAt, input.endAt, now);
  const filter = normalizeClientFilter(input.filter);
  const row = await store.insertMailing(db, {
    text,
    startAt: input.startAt,
    endAt: input.endAt,
    filterOperatorCodes: filter.operatorCodes,
    filterTags: filter.tags,
    filterTagMatch: filter.tagMatch,
  });
  log.info({ mailingId: row.id, startAt: row.startAt, endAt: row.endAt, filter }, 'mailing created');
  return row;
}

/**
 * Absent fields keep their value. A finished mailing (completed, cancelled) no longer
 * changes; one under way may change its text and end, not whom it is for or when it began.
 */
export async function updateMailing(
  db: Db,
  log: Logger,
  id: number,
  input: UpdateMailingInput,
  now = new Date(),
): Promise<MailingRow> {
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

  const row = await db.transaction(async (tx) => {
    const current = await store.findMailingForUpdate(tx, id);
    if (!current) throw new NotFoundError('mailing', id);
    if (Object.keys(patch).length === 0) return current;
    if (FINAL.includes(current.status)) {
      throw new ConflictError(`mailing ${id} is ${current.status.toLowerCase()} and can no longer change`);
    }
    if (UNDER_WAY.includes(current.status)) {
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
    return store.updateMailing(tx, id, patch);
  });
  log.info({ mailingId: id, fields: Object.keys(patch) }, 'mailing updated');
  return row;
}

/** Removes the mailing with its messages. */
export async function deleteMailing(db: Db, log: Logger, id: number): Promise<true> {
  if (!(await store.deleteMailing(db, id))) throw new NotFoundError('mailing', id);
  log.info({ mailingId: id }, 'mailing deleted');
  return true;
}

export async function listMailings(db: Db, status: MailingStatus | null, req: PageRequest): Promise<Page<MailingRow>> {
  const rows = await store.listMailings(db, status, req);
  return toPage(rows, req, () => store.countMailings(db, status));
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}
