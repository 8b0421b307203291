import type { Db } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { ConflictError, NotFoundError } from '../graphql/errors';
import { toPage, type Page, type PageRequest } from '../graphql/connection';
import type { Logger } from '../logger';
import { normalizeClientFilter, type ClientFilter } from './client.filter';
import type { ClientFilterInput, CreateClientInput, UpdateClientInput } from './client.input';
import { deleteUnsentMessagesOf } from '../messages/message.store';
import * as store from './client.store';
import type { ClientRow } from './client.table';
import {
  normalizeTags,
  operatorCodeOf,
  validateOperatorCode,
  validatePhone,
  validateTimezone,
} from './client.validation';

export async function createClient(db: Db, log: Logger, input: CreateClientInput): Promise<ClientRow> {
  const phone = validatePhone(input.phone.trim());
  const values = {
    phone,
    operatorCode: input.operatorCode == null ? operatorCodeOf(phone) : validateOperatorCode(input.operatorCode.trim()),
    tags: normalizeTags(input.tags ?? []),
    timezone: validateTimezone(input.timezone),
  };
  const row = await withPhoneConflict(() => store.insertClient(db, values));
  log.info({ clientId: row.id }, 'client created');
  return row;
}

/**
 * Absent fields keep their value. A new phone brings its own operator code unless one is
 * given, or the client's code was set apart from its old phone (a number ported between
 * operators keeps the code it was given).
 */
export async function updateClient(db: Db, log: Logger, id: number, input: UpdateClientInput): Promise<ClientRow> {
  const patch: Partial<store.ClientValues> = {};
  if (input.phone != null) patch.phone = validatePhone(input.phone.trim());
  if (input.operatorCode != null) patch.operatorCode = validateOperatorCode(input.operatorCode.trim());
  if (input.tags != null) patch.tags = normalizeTags(input.tags);
  if (input.timezone != null) patch.timezone = validateTimezone(input.timezone);

  const row = await db.transaction(async (tx) => {
    const current = await store.findClientForUpdate(tx, id);
    if (!current) throw new NotFoundError('client', id);
    if (Object.keys(patch).length === 0) return current;
    if (patch.phone && !patch.operatorCode && current.operatorCode === operatorCodeOf(current.phone)) {
      patch.operatorCode = operatorCodeOf(patch.phone);
    }
    return withPhoneConflict(async () => (await store.updateClient(tx, id, patch))!);
  });
  log.info({ clientId: id, fields: Object.keys(patch) }, 'client updated');
  return row;
}

/**
 * Removes the client from the directory, and its messages not yet sent from the mailings
 * under way; messages already sent, failed or expired keep their history.
 */
export async function deleteClient(db: Db, log: Logger, id: number): Promise<true> {
  const unsent = await db.transaction(async (tx) => {
    if (!(await store.deleteClient(tx, id))) throw new NotFoundError('client', id);
    return deleteUnsentMessagesOf(tx, id);
  });
  log.info({ clientId: id, unsentMessagesRemoved: unsent }, 'client deleted');
  return true;
}

export function listClients(
  db: Db,
  filterInput: ClientFilterInput | null | undefined,
  req: PageRequest,
): Promise<Page<ClientRow>> {
  const filter: ClientFilter = normalizeClientFilter(filterInput);
  return store.listClients(db, filter, req).then((rows) => toPage(rows, req, () => store.countClients(db, filter)));
}

async function withPhoneConflict<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error, 'clients_phone_key')) {
      throw new ConflictError('a client with this phone already exists', 'phone');
    }
    throw error;
  }
}
