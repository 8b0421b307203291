import { UserInputError } from './errors';
import { toRowId } from './ids';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** A page of rows in id order, shaped as a Relay connection (api/connection.ts types it). */
export type Page<T> = {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: PromiseLike<number>;
};

/** Keyset pagination over row ids: the cursor is the opaque form of the last id seen. */
export type PageRequest = { limit: number; afterId: number | undefined };

export function pageRequest(first: number | undefined | null, after: string | undefined | null): PageRequest {
  const limit = first ?? DEFAULT_PAGE_SIZE;
  if (limit < 0 || limit > MAX_PAGE_SIZE) {
    throw new UserInputError('first', `must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  if (after === undefined || after === null) return { limit, afterId: undefined };
  const afterId = decodeCursor(after);
  if (afterId === undefined) throw new UserInputError('after', 'is not a cursor this API returned');
  return { limit, afterId };
}

/** Builds a page from up to limit+1 rows fetched in order (the extra row proves a next page). */
export function toPage<T extends { id: number }>(rows: T[], req: PageRequest, totalCount: () => Promise<number>): Page<T> {
  const nodes = rows.slice(0, req.limit);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node.id), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > req.limit, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: lazy(totalCount),
  };
}

/**
 * toPage for rows paged by another key than their id (e.g. a client's messages, keyed by their
 * mailing): the cursor is the opaque form of that key of the last row.
 */
export function toPageBy<T>(rows: T[], req: PageRequest, keyOf: (row: T) => number, totalCount: () => Promise<number>): Page<T> {
  const nodes = rows.slice(0, req.limit);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > req.limit, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: lazy(totalCount),
  };
}

/**
 * A PromiseLike that starts its work when first awaited. graphql-js awaits a field's value
 * only when the field is selected, so the count runs only for queries that ask for it.
 */
function lazy<T>(run: () => Promise<T>): PromiseLike<T> {
  let started: Promise<T> | undefined;
  return { then: (onFulfilled, onRejected) => (started ??= run()).then(onFulfilled, onRejected) };
}

function encodeCursor(id: number): string {
  return Buffer.from(`id:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  const text = Buffer.from(cursor, 'base64url').toString();
  return text.startsWith('id:') ? toRowId(text.slice(3)) : undefined;
}
