import { and, asc, count, eq, gt, inArray, like, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/connection';
import type { PageRequest } from '../common/page';
import { clientFilterCondition, type ClientFilter } from './client.filter';
import { clients, type ClientRow } from './client.table';

export type ClientValues = Pick<ClientRow, 'phone' | 'operatorCode' | 'tags' | 'timezone' | 'name' | 'attributes'>;

export async function insertClient(db: Db, values: ClientValues): Promise<ClientRow> {
  const [row] = await db.insert(clients).values(values).returning();
  return row;
}

/** Locks the row for the rest of the transaction, so an update reads what it changes. */
export async function findClientForUpdate(db: Db, id: number): Promise<ClientRow | undefined> {
  const [row] = await db.select().from(clients).where(eq(clients.id, id)).for('update');
  return row;
}

export async function updateClient(db: Db, id: number, patch: Partial<ClientValues>): Promise<ClientRow | undefined> {
  const [row] = await db
    .update(clients)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(eq(clients.id, id))
    .returning();
  return row;
}

export async function deleteClient(db: Db, id: number): Promise<boolean> {
  const deleted = await db.delete(clients).where(eq(clients.id, id)).returning({ id: clients.id });
  return deleted.length > 0;
}

export async function findClientByPhone(db: Db, phone: string): Promise<ClientRow | undefined> {
  const [row] = await db.select().from(clients).where(eq(clients.phone, phone));
  return row;
}

export function findClientsByPhones(db: Db, phones: readonly string[]): Promise<ClientRow[]> {
  return db.select().from(clients).where(inArray(clients.phone, [...phones]));
}

export function findClientsByIds(db: Db, ids: readonly number[]): Promise<ClientRow[]> {
  return db.select().from(clients).where(inArray(clients.id, [...ids]));
}

/** A listing: the filter, and digits the phone contains (a search; digits only, so no escaping). */
export type ClientListing = { filter: ClientFilter; phoneContains: string | null };

function listingCondition({ filter, phoneContains }: ClientListing): SQL | undefined {
  return and(clientFilterCondition(filter), phoneContains ? like(clients.phone, `%${phoneContains}%`) : undefined);
}

/** One keyset page in id order, fetching one row more than asked to tell if more follow. */
export function listClients(db: Db, listing: ClientListing, page: PageRequest): Promise<ClientRow[]> {
  return db
    .select()
    .from(clients)
    .where(and(listingCondition(listing), page.afterId === undefined ? undefined : gt(clients.id, page.afterId)))
    .orderBy(asc(clients.id))
    .limit(page.limit + 1);
}

export async function countClients(db: Db, listing: ClientListing): Promise<number> {
  const [row] = await db.select({ n: count() }).from(clients).where(listingCondition(listing));
  return row.n;
}

/**
 * Inserts many clients in one statement (one JSON parameter, so no limit on parameters);
 * a phone already in the directory is skipped. Returns the phones that were inserted.
 */
export async function insertClientsSkippingExisting(db: Db, values: ClientValues[]): Promise<Set<string>> {
  if (values.length === 0) return new Set();
  const rows = JSON.stringify(
    values.map((v) => ({ phone: v.phone, operator_code: v.operatorCode, tags: v.tags, timezone: v.timezone, name: v.name, attributes: v.attributes })),
  );
  const inserted = await db.execute<{ phone: string }>(sql`
    insert into clients (phone, operator_code, tags, timezone, name, attributes)
    select r.phone, r.operator_code, array(select jsonb_array_elements_text(r.tags)), r.timezone, r.name, coalesce(r.attributes, '{}')
    from jsonb_to_recordset(${rows}::jsonb) as r(phone text, operator_code text, tags jsonb, timezone text, name text, attributes jsonb)
    on conflict (phone) do nothing
    returning phone`);
  return new Set(inserted.map((r) => r.phone));
}

/**
 * Every tag with how many clients carry it, most carried first, then by name. One pass over
 * the clients (tags live in each row's array; a tag table would have to be kept by every
 * write and import): 0.37 s for a million clients of two tags each (measured), read by the mailing form once it opens.
 */
export async function tagCounts(db: Db): Promise<{ name: string; clientCount: number }[]> {
  const rows = await db.execute<{ name: string; n: number }>(sql`
    select t as name, count(*)::int as n from clients, unnest(tags) as t group by t order by n desc, t`);
  return [...rows].map((r) => ({ name: r.name, clientCount: r.n }));
}
