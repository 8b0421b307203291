import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { sql, TransactionRollbackError } from 'drizzle-orm';
import { answerWithin } from '../db/answer-within';
import type { DbClock } from '../db/clock';
import type { Db } from '../db/connection';
import { lockMailingsShared } from '../db/locks';
import { notifyMessages } from '../events/event.channel';
import { lockAudienceForClaim, memberCondition, type Audience } from '../mailings/audience.store';
import { releaseCapPlaces, reserveUnderCap } from '../mailings/frequency-ledger.store';
import { noteOutcomes } from '../mailings/mailing-stats.store';
import { FINAL_STATUSES, sendsAt } from '../mailings/mailing.transitions';
import type { MailingStatus } from '../mailings/mailing.table';
import { frequencyCapOf, mailingColumnsSql, sendWindowOf, type MailingColumns } from '../mailings/mailing.values';
import { claimDue, nextDueAt, RECIPIENT_COLUMNS, releaseDue, toRecipient, writeResults, type HandedOutEntry, type RecipientRow, type ResultRow } from '../messages/message.store';
import { settleForMailing } from '../messages/message.transitions';
import { PartitionLookup } from '../partitions/partition.store';
import type { Claimed, ClaimOutcome, ClaimRequest, ClaimStore, ClaimTx, CommittedResults, Launch, MailingForClaim, ResultBatch } from './dispatch.ports';

/**
 * The dispatcher's claim store on PostgreSQL: the one claim transaction and its settings,
 * the one result transaction, and the leases (dispatch_leases, lease.table.ts) under which
 * members of an audience are handed out before they have message rows. Message rows are
 * written by messages/message.store.ts; this file decides what goes into which transaction.
 * Every call is given up when the database does not answer within `answerMs`.
 */

/**
 * A claim's transaction: it need not survive a crash of PostgreSQL itself (what it handed
 * out was in flight, and is handed out again), so its commit does not wait for the disk.
 * And its walk of the audience must stay a walk of the clients by primary key from the
 * cursor: right after an import (no statistics yet) the planner took a tag filter for
 * selective and read the whole audience through the tags' index at every claim, which grew
 * with the audience (82 ms a claim at 200,000 clients instead of 5).
 */
const CLAIM_SETTINGS = sql`select set_config('synchronous_commit', 'off', true), set_config('enable_bitmapscan', 'off', true),
  set_config('enable_seqscan', 'off', true)`;

export type ClaimStoreOptions = {
  /** a claimed message is this process's for this long, then (it died or hung) anyone's */
  leaseMs: number;
  /** a claim or a write of results with no answer from the database this long is given up and tried again */
  answerMs: number;
};

export class PgClaimStore implements ClaimStore {
  /** database connections a dispatcher uses through it at once: the claims, the results, completion */
  static readonly connections = 3;
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  /** which partition a batch of results goes to (writeResults plans over it alone) */
  private readonly partitions = new PartitionLookup();

  constructor(
    private readonly db: Db,
    /** told the database's time at each claim */
    private readonly clock: DbClock,
    private readonly options: ClaimStoreOptions,
  ) {}

  runningMailings(): Promise<number[]> {
    return answerWithin(runningMailings(this.db), this.options.answerMs, 'reading the running mailings');
  }

  /**
   * One claim, under the mailing's shared lock: the retries due (when asked to look) and, while there is room,
   * a lease of a vanished process and then members of the audience, handed to `launch`
   * before the transaction commits.
   */
  claim(request: ClaimRequest, launch: Launch): Promise<ClaimOutcome> {
    const { mailingId, limit } = request;
    const { leaseMs } = this.options;
    const claiming = this.db
      .transaction(async (tx): Promise<ClaimOutcome> => {
        // In memory but when the mailing is in a partition not seen yet (a round trip then).
        const partition = request.takeDue ? await this.partitions.holding(tx, [mailingId]) : undefined;
        // Taken once the connection is ours: a wait for the pool would make the clock early.
        const sentAt = Date.now();
        // One round trip: the statements run in this order, each after the one before, so
        // the mailing is read under its lock. The retries' claim is undone should the
        // mailing turn out not to be sent now (the lifecycle's rule, judged on the
        // database's clock as read in this transaction).
        const [, , mailing, audience, due] = await Promise.all([
          tx.execute(CLAIM_SETTINGS),
          lockMailingsShared(tx, [mailingId]),
          mailingForClaim(tx, mailingId),
          lockAudienceForClaim(tx, mailingId),
          request.takeDue ? claimDue(tx, mailingId, limit, leaseMs, partition) : [],
        ]);
        if (!mailing) return { kind: 'refused' };
        this.clock.observe(mailing.now, sentAt);
        if (!sendsAt(mailing, mailing.now)) tx.rollback(); // throws

        const claimed: Claimed[] = due.map((m) => ({ ...m, mailingId, leaseId: null }));
        const orphansScanned = claimed.length < limit && request.takeOverOrphans;
        if (orphansScanned) {
          claimed.push(...(await takeOverLease(tx, mailingId, this.owner, leaseMs, limit - claimed.length)));
        }
        if (claimed.length < limit && audience.held) {
          claimed.push(...(await handOut(tx, audience.held, limit - claimed.length, this.owner, leaseMs)));
        }
        await launch(mailing, claimed, claimTx(tx));
        const audienceBusy = !audience.held && audience.busy;
        // Nothing now: when is the mailing's next retry due (or its last results, which complete it)?
        const next = claimed.length === 0 && !audienceBusy ? await nextDueAt(tx, mailingId) : null;
        return { kind: 'claimed', count: claimed.length, audienceBusy, orphansScanned, dueCount: due.length, nextDueAt: next, now: mailing.now };
      })
      .catch((err): ClaimOutcome => {
        if (err instanceof TransactionRollbackError) return { kind: 'refused' };
        throw err;
      });
    return answerWithin(claiming, this.options.answerMs, 'a dispatch claim');
  }

  /**
   * Writes a batch of results under the shared locks of their mailings (a transition of one
   * waits for this write, and the write sees the status the transition left), as those
   * statuses allow; drops the leases now fully written, gives back the frequency-cap places
   * of messages that will not be sent after all, moves each mailing's window of its last
   * results on, and tells the live views.
   */
  commitResults(batch: ResultBatch): Promise<CommittedResults> {
    const mailingIds = [...new Set(batch.results.map((r) => r.row.mailingId))];
    const writing = this.db.transaction(async (tx) => {
      const partition = await this.partitions.holding(tx, mailingIds);
      await lockMailingsShared(tx, mailingIds);
      const statuses = await mailingStatuses(tx, mailingIds);
      const written: ResultRow[] = [];
      const unplaced: number[] = [];
      for (const { row, capped } of batch.results) {
        const status = statuses.get(row.mailingId);
        if (!status) continue; // a deleted mailing's results go with it
        const settled = settleForMailing(row, status);
        written.push(settled);
        // A place under a frequency cap stands for a message received: given back unless SENT.
        if (capped && settled.status !== 'SENT' && settled.status !== 'PENDING') unplaced.push(settled.id);
      }
      const changed = await writeResults(tx, written, partition);
      await releaseLeases(tx, batch.releasedLeases, this.owner);
      await releaseCapPlaces(tx, unplaced);
      const { window, minResults, defaultRate } = batch.failureRate;
      const failing = await noteOutcomes(tx, outcomesOf(written), window, minResults, defaultRate);
      const notify = notifyMessages(changed);
      if (notify) await tx.execute(notify);
      return { written, failing };
    });
    writing.catch(() => this.partitions.forget());
    return answerWithin(writing, this.options.answerMs, 'writing results');
  }

  async giveBack(retryIds: readonly number[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`update dispatch_leases set until = now() where owner = ${this.owner}`);
      await releaseDue(tx, retryIds);
    });
  }
}

function claimTx(tx: Db): ClaimTx {
  return { reserveUnderCap: (messages, cap) => reserveUnderCap(tx, messages, cap.count, cap.windowS) };
}

/** Each mailing's SENT (0) and FAILED (1) results of a batch, in order: what its failure rate is judged on. */
function outcomesOf(rows: readonly ResultRow[]): Map<number, number[]> {
  const byMailing = new Map<number, number[]>();
  for (const r of rows) {
    if (r.status !== 'SENT' && r.status !== 'FAILED') continue;
    let list = byMailing.get(r.mailingId);
    if (!list) byMailing.set(r.mailingId, (list = []));
    list.push(r.status === 'FAILED' ? 1 : 0);
  }
  return byMailing;
}

// ---- SQL ---------------------------------------------------------------------------------

async function mailingForClaim(tx: Db, id: number): Promise<MailingForClaim | undefined> {
  const [row] = await tx.execute<MailingColumns & { status: MailingStatus; text: string; end_ms: number; now_ms: number }>(sql`
    select status, text, extract(epoch from end_at) * 1000 as end_ms, ${mailingColumnsSql()},
           extract(epoch from clock_timestamp()) * 1000 as now_ms
    from mailings where id = ${id}`);
  if (!row) return undefined;
  return {
    id,
    status: row.status,
    text: row.text,
    endAt: Number(row.end_ms),
    sendWindow: sendWindowOf(row),
    frequencyCap: frequencyCapOf(row),
    now: Number(row.now_ms),
  };
}

/** The running mailings, oldest first: what the dispatcher goes round. */
async function runningMailings(db: Db): Promise<number[]> {
  const rows = await db.execute<{ id: string }>(sql`select id from mailings where status = 'RUNNING' order by id`);
  return rows.map((r) => Number(r.id));
}

/** The status of each of these mailings that still exists. */
async function mailingStatuses(tx: Db, ids: readonly number[]): Promise<Map<number, MailingStatus>> {
  const rows = await tx.execute<{ id: string; status: MailingStatus }>(sql`
    select id, status from mailings where id = any(${`{${ids.join(',')}}`}::bigint[])`);
  return new Map(rows.map((r) => [Number(r.id), r.status]));
}

type EntryRow = RecipientRow & { id: string; client_id: string; phone: string; timezone: string };

const claimedOf = (mailingId: number, leaseId: number, r: EntryRow): Claimed => ({
  id: Number(r.id),
  mailingId,
  clientId: Number(r.client_id),
  phone: r.phone,
  timezone: r.timezone,
  attempts: 0,
  leaseId,
  provider: null,
  ...toRecipient(r),
});

/**
 * Hands out up to `limit` members after the cursor under one new lease, each with a message
 * id drawn now, and moves the cursor past them (to the end when fewer were left). Walks the
 * clients by primary key from the cursor and stops at the limit. The caller holds the
 * audience (lockAudienceForClaim) from an earlier statement.
 */
async function handOut(tx: Db, audience: Audience, limit: number, owner: string, leaseMs: number): Promise<Claimed[]> {
  const mailingId = audience.mailingId;
  const rows = await tx.execute<EntryRow & { lease_id: string }>(sql`
    with picked as (
      select c.id as client_id, c.phone, c.timezone, ${RECIPIENT_COLUMNS} from clients c
      where ${memberCondition(audience, audience.cursor)}
      order by c.id limit ${limit}
    ),
    numbered as (
      select nextval('messages_id_seq'::regclass) as id, client_id, phone, timezone, name, attributes, operator_code, opted_out from picked
    ),
    lease as (
      insert into dispatch_leases (mailing_id, owner, until, message_ids, client_ids, phones, timezones)
      select ${mailingId}, ${owner}, now() + ${leaseMs} * interval '1 millisecond',
             array_agg(id order by client_id), array_agg(client_id order by client_id),
             array_agg(phone order by client_id), array_agg(timezone order by client_id)
      from numbered having count(*) > 0
      returning id
    ),
    moved as (
      update audiences
      set cursor = case when (select count(*) from picked) = ${limit} then (select max(client_id) from picked) else last_client_id end
      where mailing_id = ${mailingId}
    )
    select n.id, n.client_id, n.phone, n.timezone, n.name, n.attributes, n.operator_code, n.opted_out, l.id as lease_id
    from numbered n cross join lease l order by n.client_id`);
  return rows.map((r) => claimedOf(mailingId, Number(r.lease_id), r));
}

/**
 * Takes over one lease of the mailing whose holder is gone (its time is up: the process died
 * or hung) and returns what of it has no message row yet, at most `limit`, to be sent again
 * under the same ids: the gateway can tell a repeat by its msgId. What is over the limit is
 * split off into a lease of its own, free to be taken over at once; a lease with nothing
 * left is dropped.
 */
async function takeOverLease(tx: Db, mailingId: number, owner: string, leaseMs: number, limit: number): Promise<Claimed[]> {
  const [lease] = await tx.execute<{ id: string }>(sql`
    update dispatch_leases set owner = ${owner}, until = now() + ${leaseMs} * interval '1 millisecond'
    where id = (select id from dispatch_leases where mailing_id = ${mailingId} and until < now() order by id limit 1 for update skip locked)
    returning id`);
  if (!lease) return [];
  const rows: EntryRow[] = await tx.execute<EntryRow>(sql`
    select e.id, e.client_id, e.phone, e.timezone, ${RECIPIENT_COLUMNS}
    from dispatch_leases l
    cross join unnest(l.message_ids, l.client_ids, l.phones, l.timezones) as e(id, client_id, phone, timezone)
    left join clients c on c.id = e.client_id
    where l.id = ${lease.id} and not exists (select 1 from messages m where m.mailing_id = ${mailingId} and m.id = e.id)
    order by e.client_id`);
  if (rows.length === 0) {
    await tx.execute(sql`delete from dispatch_leases where id = ${lease.id}`);
    return [];
  }
  const [mine, rest] = [rows.slice(0, limit), rows.slice(limit)];
  const arrays = (part: EntryRow[]) =>
    sql`${sql.param(part.map((r) => r.id))}::bigint[], ${sql.param(part.map((r) => r.client_id))}::bigint[],
        ${sql.param(part.map((r) => r.phone))}::text[], ${sql.param(part.map((r) => r.timezone))}::text[]`;
  await tx.execute(sql`
    update dispatch_leases set (message_ids, client_ids, phones, timezones) = (select ${arrays(mine)}) where id = ${lease.id}`);
  if (rest.length > 0) {
    await tx.execute(sql`
      insert into dispatch_leases (mailing_id, owner, until, message_ids, client_ids, phones, timezones)
      values (${mailingId}, ${owner}, now() - interval '1 millisecond', ${arrays(rest)})`);
  }
  const leaseId = Number(lease.id);
  return mine.map((r) => claimedOf(mailingId, leaseId, r));
}

/** Drops leases whose every message now has a row (written by their holder). */
async function releaseLeases(tx: Db, leaseIds: readonly number[], owner: string): Promise<void> {
  if (leaseIds.length === 0) return;
  await tx.execute(sql`delete from dispatch_leases where id = any(${`{${leaseIds.join(',')}}`}::bigint[]) and owner = ${owner}`);
}

// ---- for the mailing lifecycle -----------------------------------------------------------

/**
 * The mailing is over: its leases whose holder is gone are dropped, and what they held is
 * returned, for the lifecycle to give those messages their final status. Leases still held
 * are left to their holders, whose results the mailing's new status then decides. Needs the
 * mailing's exclusive lock (no claim under way).
 */
export async function takeOrphanedLeases(tx: Db, mailingId: number): Promise<HandedOutEntry[]> {
  const rows = await tx.execute<{ id: string; client_id: string; phone: string; timezone: string }>(sql`
    with gone as (
      delete from dispatch_leases where mailing_id = ${mailingId} and until < now()
      returning message_ids, client_ids, phones, timezones
    )
    select e.id, e.client_id, e.phone, e.timezone
    from gone, unnest(gone.message_ids, gone.client_ids, gone.phones, gone.timezones) as e(id, client_id, phone, timezone)`);
  return rows.map((r) => ({ id: Number(r.id), clientId: Number(r.client_id), phone: r.phone, timezone: r.timezone }));
}

/** Mailings with leases whose holder is gone although the mailing is over (swept). */
export async function finishedMailingsWithOrphanLeases(db: Db): Promise<number[]> {
  const rows = await db.execute<{ mailing_id: string }>(sql`
    select distinct l.mailing_id from dispatch_leases l join mailings g on g.id = l.mailing_id
    where l.until < now() and g.status = any(${sql.param(FINAL_STATUSES)}::mailing_status[])`);
  return rows.map((r) => Number(r.mailing_id));
}

/** A deleted mailing's leases go with it (under its lock: no claim or result write is under way). */
export async function deleteLeasesOf(tx: Db, mailingId: number): Promise<void> {
  await tx.execute(sql`delete from dispatch_leases where mailing_id = ${mailingId}`);
}
