import { UserInputError } from './errors';

const ID_PATTERN = /^[1-9][0-9]{0,15}$/;

/** An ID argument as a row id, or undefined when it cannot name any row. */
export function toRowId(id: string): number | undefined {
  return ID_PATTERN.test(id) && Number.isSafeInteger(Number(id)) ? Number(id) : undefined;
}

/** Like toRowId, for mutations: a malformed id is a BAD_USER_INPUT naming the argument. */
export function requireRowId(id: string, field = 'id'): number {
  const rowId = toRowId(id);
  if (rowId === undefined) throw new UserInputError(field, 'must be a positive integer id');
  return rowId;
}
