import type { Db } from '../db/connection';
import { isUniqueViolation, rejectedData } from '../db/errors';
import { notifyClients } from '../events/event.channel';
import { ConflictError, InputProblems, NotFoundError, UserInputError } from '../common/errors';
import { toPage, type Page, type PageRequest } from '../common/page';
import type { Logger } from '../logger';
import { MAX_IMPORT_ROWS } from './client.csv';
import { normalizeClientFilter } from './client.filter';
import type { ClientFilterInput, CreateClientInput, UpdateClientInput } from './client.input';
import * as store from './client.store';
import type { ClientRow } from './client.table';
import {
  normalizeTags,
  operatorCodeOf,
  validateOperatorCode,
  validatePhone,
  validatePhoneSearch,
  validateAttributes,
  validateName,
  validateTimezone,
} from './client.validation';

/**
 * A new client's values by the directory's rules; the operator code defaults from the phone.
 * Every field is checked, and all their problems refused at once (extensions.fields).
 */
function newClientValues(input: CreateClientInput): store.ClientValues {
  const problems = new InputProblems();
  const phone = problems.check(() => validatePhone(input.phone.trim()));
  const operatorCode = problems.check(() =>
    input.operatorCode == null ? (phone === undefined ? '' : operatorCodeOf(phone)) : validateOperatorCode(input.operatorCode.trim()),
  );
  const tags = problems.check(() => normalizeTags(input.tags ?? []));
  const name = problems.check(() => (input.name == null ? null : validateName(input.name)));
  const attributes = problems.check(() => (input.attributes == null ? {} : validateAttributes(input.attributes)));
  const timezone = problems.check(() => validateTimezone(input.timezone));
  problems.done();
  return { phone: phone!, operatorCode: operatorCode!, tags: tags!, name: name!, attributes: attributes!, timezone: timezone! };
}

export async function createClient(db: Db, log: Logger, input: CreateClientInput): Promise<ClientRow> {
  const values = newClientValues(input);
  const row = await withPhoneConflict(() =>
    db.transaction(async (tx) => {
      const inserted = await store.insertClient(tx, values);
      await tx.execute(notifyClients());
      return inserted;
    }),
  );
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
  const problems = new InputProblems();
  const take = <K extends keyof store.ClientValues>(key: K, validate: () => store.ClientValues[K]) => {
    const value = problems.check(validate);
    if (value !== undefined) patch[key] = value;
  };
  if (input.phone != null) take('phone', () => validatePhone(input.phone!.trim()));
  if (input.operatorCode != null) take('operatorCode', () => validateOperatorCode(input.operatorCode!.trim()));
  if (input.tags != null) take('tags', () => normalizeTags(input.tags!));
  if (input.timezone != null) take('timezone', () => validateTimezone(input.timezone!));
  if (input.name !== undefined) take('name', () => (input.name == null ? null : validateName(input.name)));
  if (input.attributes != null) take('attributes', () => validateAttributes(input.attributes!));
  problems.done();

  const row = await db.transaction(async (tx) => {
    const current = await store.findClientForUpdate(tx, id);
    if (!current) throw new NotFoundError('client', id);
    if (Object.keys(patch).length === 0) return current;
    if (patch.phone && !patch.operatorCode && current.operatorCode === operatorCodeOf(current.phone)) {
      patch.operatorCode = operatorCodeOf(patch.phone);
    }
    const updated = await withPhoneConflict(async () => (await store.updateClient(tx, id, patch))!);
    await tx.execute(notifyClients());
    return updated;
  });
  log.info({ clientId: id, fields: Object.keys(patch) }, 'client updated');
  return row;
}

/**
 * Removes the client from the directory. Its messages not yet sent leave the mailings under
 * way with it (a trigger on clients does that, drizzle/0007, as it keeps the audiences of
 * running mailings); messages already sent, failed or expired keep their history.
 */
export async function deleteClient(db: Db, log: Logger, id: number): Promise<true> {
  await db.transaction(async (tx) => {
    if (!(await store.deleteClient(tx, id))) throw new NotFoundError('client', id);
    await tx.execute(notifyClients());
  });
  log.info({ clientId: id }, 'client deleted');
  return true;
}

export function listClients(
  db: Db,
  filterInput: ClientFilterInput | null | undefined,
  phone: string | null | undefined,
  req: PageRequest,
): Promise<Page<ClientRow>> {
  const listing = { filter: normalizeClientFilter(filterInput), phoneContains: phone == null ? null : validatePhoneSearch(phone) };
  return store.listClients(db, listing, req).then((rows) => toPage(rows, req, () => store.countClients(db, listing)));
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

export type ImportRowError = { index: number; code: 'BAD_USER_INPUT' | 'CONFLICT'; field: string | null; message: string };
export type ImportResult = { imported: number; failed: number; errors: ImportRowError[] };

/**
 * Adds many clients at once: every row is checked by the same rules as createClient, the
 * good ones go in with one statement, and each bad row is reported by its index without
 * failing the others. A phone already in the directory (or earlier in the same batch) is a
 * CONFLICT for that row.
 */
export async function importClients(db: Db, log: Logger, inputs: CreateClientInput[]): Promise<ImportResult> {
  if (inputs.length > MAX_IMPORT_ROWS) throw new UserInputError('input', `at most ${MAX_IMPORT_ROWS} clients per call`);
  const errors: ImportRowError[] = [];
  const good: { index: number; values: store.ClientValues }[] = [];
  const seen = new Set<string>();
  inputs.forEach((input, index) => {
    try {
      const values = newClientValues(input);
      const phone = values.phone;
      if (seen.has(phone)) {
        errors.push({ index, code: 'CONFLICT', field: 'phone', message: 'the same phone appears earlier in this import' });
        return;
      }
      seen.add(phone);
      good.push({ index, values });
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
      errors.push({ index, code: 'BAD_USER_INPUT', field: String(error.extensions.field), message: error.message });
    }
  });
  const refused = new Map<number, string>();
  const inserted = await insertRows(db, good, refused);
  for (const { index, values } of good) {
    const why = refused.get(index);
    if (why !== undefined) errors.push({ index, code: 'BAD_USER_INPUT', field: null, message: `the database refused this row: ${why}` });
    else if (!inserted.has(values.phone)) errors.push({ index, code: 'CONFLICT', field: 'phone', message: 'a client with this phone already exists' });
  }
  errors.sort((a, b) => a.index - b.index);
  log.info({ rows: inputs.length, imported: inserted.size, failed: errors.length }, 'clients imported');
  return { imported: inserted.size, failed: errors.length, errors };
}

/**
 * The rows in one statement; should PostgreSQL refuse it for a value one row carries (a
 * rule the checks above do not know of), the halves are tried apart, down to the row at
 * fault, which is reported in `refused` while every other row goes in. A batch of 10,000
 * with one such row costs about 2·log2(10,000) ≈ 28 statements more, not the batch.
 */
async function insertRows(db: Db, rows: { index: number; values: store.ClientValues }[], refused: Map<number, string>): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  try {
    return await db.transaction(async (tx) => {
      const phones = await store.insertClientsSkippingExisting(tx, rows.map((g) => g.values));
      if (phones.size > 0) await tx.execute(notifyClients());
      return phones;
    });
  } catch (error) {
    const rejected = rejectedData(error);
    if (!rejected) throw error;
    if (rows.length === 1) {
      refused.set(rows[0].index, rejected.message);
      return new Set();
    }
    const half = rows.length >> 1;
    const first = await insertRows(db, rows.slice(0, half), refused);
    const second = await insertRows(db, rows.slice(half), refused);
    return new Set([...first, ...second]);
  }
}
