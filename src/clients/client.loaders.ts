import DataLoader from 'dataloader';
import type { LoaderFactory } from '../api/context';
import { findClientsByIds } from './client.store';
import type { ClientRow } from './client.table';
import { optedOutAmong } from './opt-out.store';

/**
 * A request's client loaders (`ctx.loaders.get(clientLoaders)`): a page of messages asking
 * for `client`, or of clients asking for `optedOut`, costs one query, not one per row.
 */
export const clientLoaders = (({ db }) => ({
  clientById: new DataLoader<number, ClientRow | null>(async (ids) => {
    const rows = new Map((await findClientsByIds(db, ids)).map((r) => [r.id, r]));
    return ids.map((id) => rows.get(id) ?? null);
  }),
  optedOutByPhone: new DataLoader<string, boolean>(async (phones) => {
    const out = await optedOutAmong(db, phones);
    return phones.map((p) => out.has(p));
  }),
})) satisfies LoaderFactory<unknown>;
