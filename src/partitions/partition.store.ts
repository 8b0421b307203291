import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import { FINAL_STATUSES } from '../mailings/mailing.transitions';

/**
 * The SQL of the messages table's partitions (drizzle/0014): reading them from the catalog,
 * creating one for a range of mailing ids, moving the mailings' id sequence on to a new one,
 * and dropping one. The decisions (when, which) are partition.service.ts's.
 */

/** One partition of messages: the mailing ids [from, to). */
export type MessagePartition = { name: string; from: number; to: number };

export const partitionName = (from: number) => `messages_p${from}`;

// An arbitrary constant that names "changing messages' partitions" among advisory locks:
// taken for the transaction, so it holds through PgBouncer in transaction mode.
const PARTITIONS_LOCK_KEY = 7_214_630_003;

/** The attached partitions in order, from the catalog (their bounds as PostgreSQL prints them). */
export async function listPartitions(db: Db): Promise<MessagePartition[]> {
  const rows = await db.execute<{ name: string; bound: string }>(sql`
    select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'messages'::regclass and not i.inhdetachpending`);
  return rows
    .map((r) => {
      const m = /FROM \('?(\d+)'?\) TO \('?(\d+)'?\)/.exec(r.bound);
      if (!m) throw new Error(`partition ${r.name} has bounds Herald did not make: ${r.bound}`);
      return { name: r.name, from: Number(m[1]), to: Number(m[2]) };
    })
    .sort((a, b) => a.from - b.from);
}

/**
 * Which partition holds a set of mailings' messages, from a list of the partitions kept in
 * memory and read again only when a mailing id falls outside it (a partition created since).
 * A statement that names its mailings' partition is planned over that one table, where one on
 * messages is planned over every partition (18.9 ms a batch of results at 50 partitions
 * against 0.5, docs/retention.md). A partition once made never changes its bounds; one dropped
 * held only mailings long ended, whose messages nothing writes any more.
 */
export class PartitionLookup {
  private parts: MessagePartition[] = [];

  /** The one partition that holds every mailing given; undefined when they span several (or none holds one). */
  async holding(db: Db, mailingIds: readonly number[]): Promise<string | undefined> {
    let found = this.find(mailingIds);
    if (found === null) {
      this.parts = await listPartitions(db);
      found = this.find(mailingIds);
    }
    return found ?? undefined;
  }

  /** After a failed write: the list is read again at the next use. */
  forget(): void {
    this.parts = [];
  }

  /** The partition's name, undefined when they span several, null when one is not in the list. */
  private find(mailingIds: readonly number[]): string | undefined | null {
    let name: string | undefined;
    for (const id of mailingIds) {
      const p = this.parts.find((q) => q.from <= id && id < q.to);
      if (!p) return null;
      if (name !== undefined && name !== p.name) return undefined;
      name = p.name;
    }
    return name;
  }
}

/**
 * The partition that holds the newest mailing that has started and still has its messages:
 * where receipts come for (they follow what was sent lately). Undefined before any.
 */
export async function partitionOfNewestStarted(db: Db, lookup: PartitionLookup): Promise<string | undefined> {
  const [row] = await db.execute<{ id: string | null }>(sql`select max(id) as id from mailings where started_at is not null and messages_pruned_at is null`);
  return row?.id == null ? undefined : lookup.holding(db, [Number(row.id)]);
}

/**
 * Tables named like a partition that are not attached: a drop that stopped after its detach
 * (or a detach left pending by an interrupted DETACH … CONCURRENTLY), to be finished.
 */
export async function listDetached(db: Db): Promise<{ name: string; pending: boolean }[]> {
  const rows = await db.execute<{ name: string; pending: boolean }>(sql`
    select c.relname as name, coalesce(i.inhdetachpending, false) as pending
    from pg_class c left join pg_inherits i on i.inhrelid = c.oid and i.inhparent = 'messages'::regclass
    where c.relkind = 'r' and c.relnamespace = 'public'::regnamespace and c.relname ~ '^messages_p[0-9]+$'
      and (i.inhrelid is null or i.inhdetachpending)`);
  return [...rows];
}

/** The id the next mailing will get (the mailings' identity sequence). */
export async function nextMailingId(db: Db): Promise<number> {
  const [row] = await db.execute<{ next: string }>(sql`
    select case when is_called then last_value + 1 else last_value end as next from mailings_id_seq`);
  return Number(row.next);
}

/**
 * Creates the partitions [from, to) given, those that do not exist yet, under the lock (two
 * processes starting at once create each once). A table is created and then attached: ATTACH
 * takes a SHARE UPDATE EXCLUSIVE lock on messages, which writes and reads do not wait for,
 * where CREATE TABLE … PARTITION OF takes ACCESS EXCLUSIVE.
 */
export async function createPartitions(db: Db, ranges: readonly { from: number; to: number }[]): Promise<MessagePartition[]> {
  if (ranges.length === 0) return [];
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${PARTITIONS_LOCK_KEY})`);
    const existing = await listPartitions(tx);
    const created: MessagePartition[] = [];
    for (const { from, to } of ranges) {
      if (existing.some((p) => p.from < to && from < p.to)) continue;
      const name = partitionName(from);
      await tx.execute(sql.raw(`create table ${name} (like messages including defaults)`));
      // The keys made here so that they are named for their partition (a duplicate's error
      // names messages_p<from>_mailing_client_key); ATTACH takes them for the parent's.
      await tx.execute(sql.raw(`alter table ${name} add constraint ${name}_pkey primary key (id, mailing_id), add constraint ${name}_mailing_client_key unique (mailing_id, client_id)`));
      // The counters' and webhooks' statement triggers, which a statement naming the
      // partition fires instead of messages' (writeResults updates a partition by name).
      await tx.execute(sql`select herald_partition_triggers(${name}::regclass)`);
      // The range checked by a constraint before ATTACH, so that it need not scan (the table is empty anyway).
      await tx.execute(sql.raw(`alter table ${name} add constraint ${name}_range check (mailing_id >= ${from} and mailing_id < ${to})`));
      await tx.execute(sql.raw(`alter table messages attach partition ${name} for values from (${from}) to (${to})`));
      await tx.execute(sql.raw(`alter table ${name} drop constraint ${name}_range`));
      created.push({ name, from, to });
    }
    return created;
  });
}

/**
 * New mailings take their ids from `from` on (a new partition's first id): the sequence only
 * ever moves forward, under the lock, so no id is given twice.
 */
export async function moveMailingIdsTo(db: Db, from: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${PARTITIONS_LOCK_KEY})`);
    const [row] = await tx.execute<{ moved: boolean }>(sql`
      select case when (select case when is_called then last_value + 1 else last_value end from mailings_id_seq) < ${from}
             then setval('mailings_id_seq', ${from - 1}, true) is not null else false end as moved`);
    return row.moved;
  });
}

/** When the first mailing of ids [from, to) was created, if any was (a partition in use since). */
export async function firstMailingCreatedAt(db: Db, range: { from: number; to: number }): Promise<Date | null> {
  const [row] = await db.execute<{ at: string | null }>(sql`
    select min(created_at) as at from mailings where id >= ${range.from} and id < ${range.to}`);
  return row.at ? new Date(row.at) : null;
}

/**
 * Whether a partition's messages may go: every mailing of its range that was started is over
 * (final) and ended more than `retentionMs` ago, and it holds a row at all. Mailings never
 * started (scheduled for later) hold no rows and do not keep it.
 */
export async function isPrunable(db: Db, p: MessagePartition, retentionMs: number): Promise<boolean> {
  const [row] = await db.execute<{ prunable: boolean }>(sql`
    select exists (select 1 from ${sql.identifier(p.name)})
       and not exists (
         select 1 from mailings m
         where m.id >= ${p.from} and m.id < ${p.to} and m.started_at is not null
           and (m.status::text not in (${sql.join(FINAL_STATUSES.map((s) => sql`${s}`), sql`, `)})
                or m.finished_at is null or m.finished_at > now() - ${retentionMs} * interval '1 millisecond')
       ) as prunable`);
  return row.prunable;
}

/** The started mailings of a range with their row counts, for the archive and the log. */
export async function mailingsWithRows(db: Db, p: MessagePartition): Promise<{ mailingId: number; rows: number }[]> {
  const rows = await db.execute<{ mailing_id: string; n: string }>(sql`
    select mailing_id, count(*) as n from ${sql.identifier(p.name)} group by mailing_id order by mailing_id`);
  return rows.map((r) => ({ mailingId: Number(r.mailing_id), rows: Number(r.n) }));
}

/**
 * Detaches a partition without blocking messages' readers and writers (DETACH … CONCURRENTLY:
 * no transaction around it, and it waits for the transactions that may still see the
 * partition); one left pending by an interrupted detach is finished instead.
 */
export async function detachPartition(db: Db, name: string, pending = false): Promise<void> {
  await db.execute(sql.raw(`alter table messages detach partition ${name} ${pending ? 'finalize' : 'concurrently'}`));
}

/**
 * After the detach: the mailings of the range that had started are marked as no longer
 * holding their messages, and the table goes, in one transaction.
 */
export async function dropDetached(db: Db, name: string, range: { from: number; to: number } | null): Promise<void> {
  await db.transaction(async (tx) => {
    if (range) {
      await tx.execute(sql`
        update mailings set messages_pruned_at = now()
        where id >= ${range.from} and id < ${range.to} and started_at is not null and messages_pruned_at is null`);
    }
    await tx.execute(sql.raw(`drop table if exists ${name}`));
  });
}

/** Whether some mailing of a range may still write messages into it (not over yet). */
export async function rangeHasUnfinishedMailings(db: Db, range: { from: number; to: number }): Promise<boolean> {
  const [row] = await db.execute<{ found: boolean }>(sql`
    select exists (
      select 1 from mailings where id >= ${range.from} and id < ${range.to}
        and status::text not in (${sql.join(FINAL_STATUSES.map((s) => sql`${s}`), sql`, `)})) as found`);
  return row.found;
}

/** A range's bounds read back from a detached table's name and its mailings (for finishing an interrupted drop). */
export function fromOfName(name: string): number | null {
  const m = /^messages_p(\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** The highest mailing id among a (detached) partition table's rows, null when empty. */
export async function highestMailingIdIn(db: Db, name: string): Promise<number | null> {
  const [row] = await db.execute<{ top: string | null }>(sql`select max(mailing_id) as top from ${sql.identifier(name)}`);
  return row?.top == null ? null : Number(row.top);
}
