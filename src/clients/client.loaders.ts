import DataLoader from 'dataloader';
import type { LoaderFactory } from '../api/context';
import { findClientsByIds, findClientsByPhones } from './client.store';
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
  /** the client with this phone now (replies name a phone, not a client) */
  clientByPhone: new DataLoader<string, ClientRow | null>(async (phones) => {
    const rows = new Map((await findClientsByPhones(db, phones)).map((r) => [r.phone, r]));
    return phones.map((p) => rows.get(p) ?? null);
  }),
  optedOutByPhone: new DataLoader<string, boolean>(async (phones) => {
    const out = await optedOutAmong(db, phones);
    return phones.map((p) => out.has(p));
  }),
})) satisfies LoaderFactory<unknown>;
