import { normalizeClientFilter } from '../clients/client.filter';
import type { Db } from '../db/connection';
import { notifyMailing } from '../events/event.channel';
import { toPage, type Page, type PageRequest } from '../common/page';
import { ConflictError, InputProblems, NotFoundError, UserInputError } from '../common/errors';
import type { Logger } from '../logger';
import { toMessageStats, type MessageStatsValue } from '../messages/message.stats';
import { countsOf } from './mailing-stats.store';
import type { CreateMailingInput, UpdateMailingInput } from './mailing.input';
import * as lifecycle from './mailing.lifecycle';
import { lockMailing } from '../db/locks';
import * as store from './mailing.store';
import type { MailingRow, MailingStatus } from './mailing.table';
import type { MailingTimers } from './mailing.timers';
import { awaitsStart, isEditable, isUnderWay, refusal, subjectOf } from './mailing.transitions';
import { clampInstant, measureTemplate, validateFailureRate, validateMailingName, validatePeriod, validateSendWindow, validateTemplate, validateText } from './mailing.validation';
import type { CampaignRules } from './campaign.rules';
import { validateFrequencyCap } from './frequency-cap';
import { findClientsByIds } from '../clients/client.store';
import { countMatching } from './audience.store';
import { isPersonalised, MAX_VALUE_LENGTH, parseTemplate, render } from './mailing.template';
import { segmentsOf, type Segments } from './segments';
import { filterOf, formatSendWindow, mailingValuesOf, sameFilter, type MailingValues } from './mailing.values';

export type MailingDeps = { db: Db; log: Logger; timers: MailingTimers; campaign: CampaignRules; onSettled?: lifecycle.SettledObserver };

/**
 * A mailing whose startAt has come starts in the same transaction, so the answer already
 * says RUNNING (COMPLETED when nobody matches), and its first messages go out at once.
 */
export async function createMailing(deps: MailingDeps, input: CreateMailingInput, now = new Date()): Promise<MailingRow> {
  // Every field is checked, and all their problems answered at once (extensions.fields).
  const problems = new InputProblems();
  const text = problems.check(() => validateText(input.text, deps.campaign.maxSegments));
  validatePeriod(input.startAt, input.endAt, now, problems);
  const filter = problems.check(() => normalizeClientFilter(input.filter));
  const sendWindow = problems.check(() => (input.sendWindow ? validateSendWindow(input.sendWindow) : null));
  const frequencyCap = problems.check(() => (input.frequencyCap == null ? null : validateFrequencyCap(input.frequencyCap)));
  const name = problems.check(() => (input.name == null ? null : validateMailingName(input.name)));
  const maxFailureRate = problems.check(() => (input.maxFailureRate == null ? null : validateFailureRate(input.maxFailureRate)));
  problems.done();
  const values: MailingValues = {
    text: text!,
    startAt: input.startAt,
    endAt: input.endAt,
    filter: filter!,
    sendWindow: sendWindow!,
    frequencyCap: frequencyCap!,
    name: name!,
    maxFailureRate: maxFailureRate!,
  };
  return insertMailing(deps, values);
}

/** Writes a mailing whose values are valid, and starts it when its start has come. */
async function insertMailing(deps: MailingDeps, values: MailingValues): Promise<MailingRow> {
  const began = performance.now();
  const { row, audience } = await deps.db.transaction(async (tx) => {
    const inserted = await store.insertMailing(tx, values);
    await tx.execute(notifyMailing(inserted.id, 'CREATED', inserted.status));
    await lockMailing(tx, inserted.id);
    const found = await store.findForTransition(tx, inserted.id);
    const due = found && refusal('start', subjectOf(inserted), found.now) === null;
    if (!due) return { row: inserted, audience: null };
    const started = await lifecycle.startLocked(tx, inserted.id);
    return { row: started.mailing, audience: started.audience };
  });
  deps.log.info({ mailingId: row.id, startAt: row.startAt, endAt: row.endAt, filter: values.filter, sendWindow: values.sendWindow && formatSendWindow(values.sendWindow) }, 'mailing created');
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
  const patch: Partial<MailingValues> = {};
  const problems = new InputProblems();
  const take = <K extends keyof MailingValues>(key: K, validate: () => MailingValues[K]) => {
    const value = problems.check(validate);
    if (value !== undefined) patch[key] = value;
  };
  if (input.name !== undefined) take('name', () => (input.name == null ? null : validateMailingName(input.name)));
  if (input.text != null) take('text', () => validateText(input.text!, deps.campaign.maxSegments));
  if (input.frequencyCap !== undefined) take('frequencyCap', () => (input.frequencyCap == null ? null : validateFrequencyCap(input.frequencyCap)));
  if (input.maxFailureRate !== undefined) take('maxFailureRate', () => (input.maxFailureRate == null ? null : validateFailureRate(input.maxFailureRate)));
  if (input.startAt != null) patch.startAt = input.startAt;
  if (input.endAt != null) patch.endAt = input.endAt;
  if (input.filter != null) take('filter', () => normalizeClientFilter(input.filter));
  if (input.sendWindow !== undefined) take('sendWindow', () => (input.sendWindow == null ? null : validateSendWindow(input.sendWindow)));
  // The period needs the mailing's current values: judged below with these problems.
  if (input.startAt != null && input.endAt != null) validatePeriod(input.startAt, input.endAt, now, problems);
  problems.done();

  const row = await deps.db.transaction(async (tx) => {
    // Under the mailing's lock: once the edit returns, no claim hands out a message with the
    // old text or end.
    await lockMailing(tx, id);
    const current = await store.findMailingForUpdate(tx, id);
    if (!current) throw new NotFoundError('mailing', id);
    if (Object.keys(patch).length === 0) return current;
    if (!isEditable(current.status)) {
      throw new ConflictError(`mailing ${id} is ${current.status.toLowerCase()} and can no longer change`);
    }
    if (isUnderWay(current.status)) {
      if (patch.startAt && patch.startAt.getTime() !== current.startAt.getTime()) {
        throw new UserInputError('startAt', 'cannot change once the mailing has started');
      }
      if (patch.filter && !sameFilter(patch.filter, filterOf(current))) throw new UserInputError('filter', 'cannot change once the mailing has started');
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

export const pauseMailing = (deps: MailingDeps, id: number, by: string) => lifecycle.pauseMailing(deps.db, deps.log, id, by);
export const resumeMailing = (deps: MailingDeps, id: number) => lifecycle.resumeMailing(deps.db, deps.log, id);
export const cancelMailing = (deps: MailingDeps, id: number) => lifecycle.cancelMailing(deps.db, deps.log, id, deps.onSettled);

/** One mailing with its statistics, read in one query. */
export async function findMailing(db: Db, id: number): Promise<{ mailing: MailingRow; stats: MessageStatsValue } | null> {
  const row = await store.findMailingWithCounts(db, id);
  if (!row) return null;
  return { mailing: row.mailing, stats: toMessageStats(row.counts ? countsOf(row.counts) : {}) };
}

export async function listMailings(
  db: Db,
  input: { status: MailingStatus | null; name: string | null; startFrom: Date | null; startTo: Date | null },
  req: PageRequest,
  order: store.MailingListOrder = store.NEWEST_FIRST,
): Promise<Page<MailingRow>> {
  const filter: store.MailingListFilter = { ...input, name: input.name?.trim() || null };
  // A bound beyond what timestamps hold (year 0, year 300000) is as good as none: kept to the range.
  if (filter.startFrom) filter.startFrom = clampInstant(filter.startFrom);
  if (filter.startTo) filter.startTo = clampInstant(filter.startTo);
  if (filter.startFrom && filter.startTo && filter.startTo <= filter.startFrom) throw new UserInputError('startTo', 'must be after startFrom');
  const rows = await store.listMailings(db, filter, req, order);
  return toPage(rows, req, () => store.countMailings(db, filter));
}

/** Whether a mailing's text (stored, so it parses) has placeholders. */
export function isPersonalisedText(text: string): boolean {
  return isPersonalised(parseTemplate(text));
}

/** How a mailing's text is billed, at its placeholders' longest values. */
export function segmentsOfText(text: string): Segments {
  return measureTemplate(text).segments;
}

/**
 * A text measured as it is typed: its placeholders are checked as createMailing checks them
 * (BAD_USER_INPUT on `text`), but a text over MAX_SEGMENTS is measured, not refused, so
 * that an operator sees by how much.
 */
export function measureText(campaign: Pick<CampaignRules, 'maxSegments'>, textInput: string) {
  const { template, segments } = measureTemplate(textInput);
  return {
    segments,
    placeholders: template.filter((part) => typeof part !== 'string').length,
    placeholderLength: MAX_VALUE_LENGTH,
    maxSegments: campaign.maxSegments,
  };
}

/**
 * How many clients a mailing is for: before its start, how many match its filter now
 * (opt-outs excluded); from its start, its total.
 */
export async function audienceSizeOf(db: Db, mailing: MailingRow, total: () => Promise<number>): Promise<number> {
  if (!awaitsStart(mailing.status)) return total();
  return countMatching(db, filterOf(mailing));
}

/** How many clients a filter matches now, opted-out phones left out. */
export function audiencePreview(db: Db, filterInput: Parameters<typeof normalizeClientFilter>[0]): Promise<number> {
  return countMatching(db, normalizeClientFilter(filterInput));
}

/** A text as it would go to one client, and how it would be billed. */
export async function previewMailing(deps: Pick<MailingDeps, 'db' | 'campaign'>, textInput: string, clientId: number): Promise<{ text: string; segments: Segments }> {
  const { template } = validateTemplate(textInput, deps.campaign.maxSegments);
  const [client] = await findClientsByIds(deps.db, [clientId]);
  if (!client) throw new NotFoundError('client', clientId);
  const text = render(template, { name: client.name, attributes: client.attributes });
  return { text, segments: segmentsOf(text) };
}

/**
 * A new scheduled mailing with the same name, text, filter, send window and rules. Its period
 * is the one given, else the original's if that is still ahead, else as long as the
 * original's, starting an hour from now.
 */
export async function duplicateMailing(deps: MailingDeps, id: number, startAt: Date | null, endAt: Date | null, now = new Date()): Promise<MailingRow> {
  const found = await store.findMailing(deps.db, id);
  if (!found) throw new NotFoundError('mailing', id);
  const original = mailingValuesOf(found);
  const length = original.endAt.getTime() - original.startAt.getTime();
  const ahead = original.startAt > now;
  const start = startAt ?? (ahead ? original.startAt : new Date(now.getTime() + 3_600_000));
  const end = endAt ?? (ahead && !startAt ? original.endAt : new Date(start.getTime() + length));
  // Its values were valid when written; the text is judged again (MAX_SEGMENTS may have
  // changed since), and the new period as any mailing's.
  const text = validateText(original.text, deps.campaign.maxSegments);
  validatePeriod(start, end, now);
  return insertMailing(deps, { ...original, text, startAt: start, endAt: end });
}

export const retryFailed = (deps: MailingDeps, id: number) => lifecycle.retryFailed(deps.db, deps.log, id);

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
