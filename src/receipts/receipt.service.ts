import type { Db } from '../db/connection';
import { notifyMessages } from '../events/event.channel';
import { logRepeated, type Logger } from '../logger';
import { applyReceipts, lastHandedOutId, type ReceiptMatch, type ReceiptWrite } from '../messages/message.store';
import { PartitionLookup, partitionOfNewestStarted } from '../partitions/partition.store';
import type { ProviderInbox, Receipt, ReceiptResult } from '../providers/provider-inbox';
import { anyParked, dropExpiredParked, parkReceipts, takeMatchedParked } from './parked-receipt.store';

/** What became of receipts, for metrics: moved a message on, found it final already (duplicate), or matched nothing (unknown). */
export type ReceiptObserver = (provider: string, result: 'delivered' | 'undelivered' | 'parked' | 'unknown' | 'duplicate', n: number) => void;

export type ReceiptServiceOptions = {
  /** each provider's kind: an HTTP provider's ids are Herald's own message ids, an SMPP provider's are the SMSC's */
  kinds: ReadonlyMap<string, 'http' | 'smpp'>;
  /** a parked receipt that no message took after this long is dropped as unknown (RECEIPT_PARK_MS) */
  parkMs: number;
  /** how often the sweep looks at parked receipts */
  sweepMs?: number;
  observe?: ReceiptObserver;
};

const SWEEP_BATCH = 1_000;
/** how long the partition receipts are matched in first is taken as known */
const NEWEST_PARTITION_MS = 1_000;

/**
 * Decides what a provider's receipt does (ProviderInbox.receipts): it moves the SENT message
 * the provider knows by that id to DELIVERED or UNDELIVERED (message.store's applyReceipts,
 * with the NOTIFY in the same transaction so that live stats follow); a message already
 * final stays (receipts are idempotent); a receipt that may belong to a message not yet
 * recorded as SENT is parked, and the sweep (start(), in the processes that dispatch)
 * applies it once the message is, or drops it as unknown after `parkMs`.
 *
 * Which unmatched receipts park: an HTTP provider's id is the message id Herald sent under,
 * so an id up to the last one handed out may still be on its way to the database (park), a
 * larger one never was (unknown). An SMSC's ids say nothing of that: always park.
 */
export class ReceiptService implements Pick<ProviderInbox, 'receipts'> {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | null = null;
  /** the partitions as last read: the newest started mailing's is asked first (applyReceipts) */
  private readonly partitions = new PartitionLookup();
  /** that partition as last looked up, and when: it changes when a mailing starts in a new one */
  private newest: { name: string | undefined; at: number } | null = null;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly options: ReceiptServiceOptions,
  ) {}

  async receipts(provider: string, receipts: readonly Receipt[]): Promise<ReceiptResult[]> {
    const kind = this.options.kinds.get(provider);
    const { results, matches } = await this.inTransaction(async (tx) => {
      const { matches, changed } = await applyReceipts(tx, provider, receipts, await this.newestPartition(tx));
      const results: ReceiptResult[] = [];
      const park: ReceiptWrite[] = [];
      let lastId: number | undefined;
      for (const [i, m] of matches.entries()) {
        if (m.result !== 'unmatched') {
          results.push('applied');
          continue;
        }
        const id = receipts[i].providerMessageId;
        let parks = kind !== 'http';
        if (!parks && /^[1-9]\d{0,15}$/.test(id)) parks = Number(id) <= (lastId ??= await lastHandedOutId(tx));
        results.push(parks ? 'parked' : 'unknown');
        if (parks) park.push(receipts[i]);
      }
      await parkReceipts(tx, provider, park);
      const notify = notifyMessages(changed);
      if (notify) await tx.execute(notify);
      return { results, matches };
    });
    this.told(provider, receipts, matches, results);
    return results;
  }

  /** Sweeps parked receipts every sweepMs (the processes that dispatch run it). */
  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.options.sweepMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** Applies parked receipts whose message is now recorded, and drops those kept past parkMs. One sweep at a time. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce()
      .catch((err) => logRepeated(this.log, 'error', { err }, 'sweeping parked receipts failed'))
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  /**
   * The partition to match receipts in first, looked up at most once a second: a receipt
   * posted alone would otherwise pay a round trip for it. Up to a second stale after a mailing
   * starts in a new partition, its receipts are still matched, through `messages`.
   */
  private async newestPartition(tx: Db): Promise<string | undefined> {
    const now = Date.now();
    if (this.newest === null || now - this.newest.at >= NEWEST_PARTITION_MS) {
      this.newest = { name: await partitionOfNewestStarted(tx, this.partitions), at: now };
    }
    return this.newest.name;
  }

  /**
   * A transaction of receipts. One that fails may have named a partition no longer there (the
   * retention dropped it since it was looked up): it is looked up afresh next time.
   */
  private async inTransaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(work);
    } catch (error) {
      this.newest = null;
      this.partitions.forget();
      throw error;
    }
  }

  private async sweepOnce(): Promise<void> {
    // The common case, nothing parked, costs one index look a second.
    if (!(await anyParked(this.db))) return;
    for (;;) {
      const applied = await this.inTransaction(async (tx) => {
        const taken = await takeMatchedParked(tx, SWEEP_BATCH);
        const byProvider = new Map<string, ReceiptWrite[]>();
        for (const r of taken) byProvider.set(r.provider, [...(byProvider.get(r.provider) ?? []), r]);
        const told: { provider: string; receipts: ReceiptWrite[]; matches: ReceiptMatch[] }[] = [];
        const first = byProvider.size > 0 ? await this.newestPartition(tx) : undefined;
        for (const [provider, receipts] of byProvider) {
          const { matches, changed } = await applyReceipts(tx, provider, receipts, first);
          const notify = notifyMessages(changed);
          if (notify) await tx.execute(notify);
          told.push({ provider, receipts, matches });
        }
        return { n: taken.length, told };
      });
      for (const t of applied.told) this.told(t.provider, t.receipts, t.matches, t.matches.map(() => 'applied'), true);
      if (applied.n < SWEEP_BATCH) break;
    }
    const dropped = await this.db.transaction((tx) => dropExpiredParked(tx, this.options.parkMs));
    const perProvider = new Map<string, number>();
    for (const d of dropped) perProvider.set(d.provider, (perProvider.get(d.provider) ?? 0) + 1);
    for (const [provider, n] of perProvider) {
      this.log.warn({ provider, receipts: n, parkMs: this.options.parkMs }, 'receipts dropped: no message of this provider took their ids');
      this.options.observe?.(provider, 'unknown', n);
    }
  }

  /** Logs and counts what receipts did. */
  private told(provider: string, receipts: readonly ReceiptWrite[], matches: readonly ReceiptMatch[], results: readonly ReceiptResult[], parked = false): void {
    const counts = { delivered: 0, undelivered: 0, parked: 0, unknown: 0, duplicate: 0 };
    for (const [i, m] of matches.entries()) {
      const r = receipts[i];
      const ids = { provider, messageId: m.messageId ?? undefined, mailingId: m.mailingId ?? undefined, providerMessageId: r.providerMessageId };
      if (m.result === 'changed') {
        counts[r.status === 'DELIVERED' ? 'delivered' : 'undelivered']++;
        this.log.info({ ...ids, status: r.status, error: r.error ?? undefined, parked: parked || undefined }, 'receipt applied');
      } else if (m.result === 'final') {
        counts.duplicate++;
        this.log.debug({ ...ids, status: r.status }, 'receipt for a message already final: nothing changes');
      } else if (results[i] === 'unknown') {
        counts.unknown++;
        this.log.warn(ids, 'receipt for an id no message of this provider has');
      } else {
        counts.parked++;
        this.log.info({ ...ids, status: r.status }, 'receipt parked: its message is not recorded as sent yet');
      }
    }
    for (const [result, n] of Object.entries(counts) as [keyof typeof counts, number][]) if (n > 0) this.options.observe?.(provider, result, n);
  }
}
