import { UserInputError } from '../common/errors';
import { toPage, type Page, type PageRequest } from '../common/page';
import type { Db } from '../db/connection';
import { notifyClients } from '../events/event.channel';
import type { Logger } from '../logger';
import * as store from './opt-out.store';
import type { OptOutRow } from './opt-out.table';
import { validatePhone, validatePhoneSearch } from './client.validation';

const MAX_REASON_LENGTH = 200;

/**
 * A phone that asked to receive nothing: no mailing's audience includes it from now on
 * (also as a client added or imported later), and a running mailing that counted it at its
 * start skips its message (SKIPPED, "opted out"). It outlives the client's deletion.
 */
export async function optOut(db: Db, log: Logger, phone: string, reason: string | null | undefined): Promise<true> {
  const p = validatePhone(phone.trim());
  const why = reason == null || reason.trim() === '' ? null : reason.trim();
  if (why !== null && why.length > MAX_REASON_LENGTH) throw new UserInputError('reason', `must be at most ${MAX_REASON_LENGTH} characters`);
  await db.transaction(async (tx) => {
    await store.upsertOptOut(tx, p, why);
    await tx.execute(notifyClients());
  });
  // The phone is a client's contact, not an id: only that an opt-out happened is logged.
  log.info('phone opted out');
  return true;
}

/** Lifts an opt-out; false when the phone had none. Mailings that start from now on include it. */
export async function optIn(db: Db, log: Logger, phone: string): Promise<boolean> {
  const p = validatePhone(phone.trim());
  const lifted = await db.transaction(async (tx) => {
    const done = await store.deleteOptOut(tx, p);
    if (done) await tx.execute(notifyClients());
    return done;
  });
  if (lifted) log.info('phone opted in');
  return lifted;
}

export async function listOptOuts(db: Db, phone: string | null | undefined, req: PageRequest): Promise<Page<OptOutRow>> {
  const phoneContains = phone == null ? null : validatePhoneSearch(phone);
  return toPage(await store.listOptOuts(db, phoneContains, req), req, () => store.countOptOuts(db, phoneContains));
}
