import { inArray } from 'drizzle-orm';
import type { Db } from '../db/connection';
import { NotFoundError } from '../common/errors';
import { logRepeated, type Logger } from '../logger';
import { findMailing } from '../mailings/mailing.store';
import { findMailing as findMailingWithStats } from '../mailings/mailing.service';
import type { MailingRow, MailingStatus } from '../mailings/mailing.table';
import { isFinal, isSending, isUnderWay } from '../mailings/mailing.transitions';
import type { MessageStatsValue } from '../messages/message.stats';
import { messages, type MessageRow, type MessageStatus } from '../messages/message.table';
import { readStatistics, type StatisticsValue } from '../statistics/statistics.service';
import { BoundedQueue } from './bounded-queue';
import type { EventBus } from '../events/event.bus';
import type { MailingEventKind } from '../events/event.channel';
import { findInbound } from '../inbound/inbound.store';
import type { InboundMessageRow } from '../inbound/inbound.table';

export type MailingProgressValue = {
  mailingId: number;
  /** the mailing as read for this event; `stats` below are its counts at that moment */
  mailing: MailingRow;
  status: MailingStatus;
  stats: MessageStatsValue;
  ratePerSecond: number;
  etaSeconds: number | null;
  atRisk: boolean;
  at: Date;
  /** nothing more will come: a terminal status with no receipt awaited (or none for a while) */
  settled: boolean;
};
export type MessageChangeValue = {
  messageId: number;
  clientId: number;
  status: MessageStatus;
  attempts: number;
  lastError: string | null;
  at: Date;
  message: MessageRow;
};
export type MailingChangeValue = { mailingId: number; kind: MailingEventKind; status: MailingStatus | null; at: Date };
export type DirectoryChangeValue = { at: Date };

export type LiveOptions = {
  /** progress events for one mailing come at most this often */
  progressIntervalMs: number;
  /** and at least this often while it runs, so rate and risk stay current */
  heartbeatMs: number;
  /**
   * A finished mailing's progress stays open while messages await a receipt (receipts keep
   * moving its counts), until its counts have not moved for this long: a provider that never
   * sends receipts must not hold subscriptions open for ever.
   */
  receiptIdleMs: number;
};

const RATE_WINDOW_MS = 5_000;
// A slow consumer's backlog, at most: progress keeps only the latest snapshot; the feeds
// keep this many items and drop the oldest.
const FEED_CAPACITY = 100;
const LIST_CAPACITY = 1_000;

/**
 * What subscribers of this process see, built from the event channel (so work done by any
 * process shows) and from the rows (so a snapshot is always the truth, and counts read in
 * order never go backwards).
 */
export class LiveUpdates {
  private readonly watches = new Map<number, SharedWatch<MailingProgressValue>>();
  private statisticsWatch: SharedWatch<StatisticsValue> | undefined;
  private readonly feeds = new Map<number, Set<BoundedQueue<MessageChangeValue[]>>>();
  private readonly lists = new Set<BoundedQueue<MailingChangeValue>>();
  private readonly directories = new Set<BoundedQueue<DirectoryChangeValue>>();
  private readonly replies = new Set<BoundedQueue<InboundMessageRow>>();
  private inboundReads: Promise<void> = Promise.resolve();
  private readonly unsubscribe: (() => void)[];

  constructor(
    bus: EventBus,
    private readonly db: Db,
    private readonly log: Logger,
    private readonly options: LiveOptions,
  ) {
    this.unsubscribe = [
      bus.subscribe((event) => {
        // The providers' directory hears its own events; they move none of these.
        if (event.t === 'providers') return;
        // A reply moves no figure; its opt-out, if any, comes as a clients event of its own.
        if (event.t === 'inbound') {
          // One read after another: subscribers see replies in the order they were kept.
          if (this.replies.size > 0) this.inboundReads = this.inboundReads.then(() => this.publishInbound(event.id));
          return;
        }
        // Every event may move the overall figures.
        this.statisticsWatch?.changed('changed');
        if (event.t === 'mailing') {
          // The channel carries the status as the transaction wrote it: one of MailingStatus.
          const change = { mailingId: event.m, kind: event.k, status: event.s as MailingStatus | null, at: new Date() };
          for (const queue of this.lists) queue.push(change);
          this.watches.get(event.m)?.changed(event.k === 'DELETED' ? 'deleted' : 'changed');
          if (event.k === 'DELETED') for (const q of this.feeds.get(event.m) ?? []) q.end();
        } else if (event.t === 'messages') {
          this.watches.get(event.m)?.changed('changed');
          if (this.feeds.has(event.m)) void this.publishMessages(event.m, event.ids);
        } else {
          const change = { at: new Date() };
          for (const queue of this.directories) queue.push(change);
        }
      }),
      bus.onResync(() => {
        for (const watch of this.watches.values()) watch.changed('resync');
        this.statisticsWatch?.changed('resync');
      }),
    ];
  }

  /**
   * A snapshot at once, then coalesced changes; at a terminal status it ends when no message
   * awaits a receipt, or once receipts have not moved the counts for `receiptIdleMs`.
   */
  async mailingProgress(mailingId: number): Promise<AsyncIterable<MailingProgressValue>> {
    let watch = this.watches.get(mailingId);
    if (!watch) {
      const created: SharedWatch<MailingProgressValue> = new SharedWatch(progressSource(this.db, mailingId, this.options.receiptIdleMs), this.log, this.options, () => {
        if (this.watches.get(mailingId) === created) this.watches.delete(mailingId);
      });
      this.watches.set(mailingId, (watch = created));
    }
    const joined = watch;
    const queue = new BoundedQueue<MailingProgressValue>(1, () => joined.leave(queue));
    queue.snapshots = true;
    if (!(await joined.join(queue))) {
      queue.end();
      throw new NotFoundError('mailing', mailingId);
    }
    return queue;
  }

  /** The overall statistics at once, then whenever they change (as coalesced as progress). */
  async statistics(): Promise<AsyncIterable<StatisticsValue>> {
    const watch = (this.statisticsWatch ??= new SharedWatch(statisticsSource(this.db), this.log, this.options, () => {
      if (this.statisticsWatch === watch) this.statisticsWatch = undefined;
    }));
    const queue = new BoundedQueue<StatisticsValue>(1, () => watch.leave(queue));
    queue.snapshots = true;
    await watch.join(queue);
    return queue;
  }

  async messageChanges(mailingId: number): Promise<AsyncIterable<MessageChangeValue[]>> {
    if (!(await findMailing(this.db, mailingId))) throw new NotFoundError('mailing', mailingId);
    const queue: BoundedQueue<MessageChangeValue[]> = new BoundedQueue(
      FEED_CAPACITY,
      () => {
        const set = this.feeds.get(mailingId);
        set?.delete(queue);
        if (set?.size === 0) this.feeds.delete(mailingId);
        if (queue.dropped > 0) logRepeated(this.log, 'warn', { mailingId, dropped: queue.dropped }, 'slow subscriber closed; it missed the oldest batches');
      },
      () => logRepeated(this.log, 'warn', { mailingId, capacity: FEED_CAPACITY }, 'slow subscriber: dropping its oldest batches'),
    );
    if (!this.feeds.has(mailingId)) this.feeds.set(mailingId, new Set());
    this.feeds.get(mailingId)!.add(queue);
    return queue;
  }

  mailingChanges(): AsyncIterable<MailingChangeValue> {
    const queue: BoundedQueue<MailingChangeValue> = new BoundedQueue(
      LIST_CAPACITY,
      () => this.lists.delete(queue),
      () => logRepeated(this.log, 'warn', { capacity: LIST_CAPACITY }, 'slow subscriber: dropping its oldest mailing events'),
    );
    this.lists.add(queue);
    return queue;
  }

  /** That the client directory changed; a slow subscriber is told once, not once per change. */
  directoryChanges(): AsyncIterable<DirectoryChangeValue> {
    const queue: BoundedQueue<DirectoryChangeValue> = new BoundedQueue(1, () => this.directories.delete(queue));
    this.directories.add(queue);
    return queue;
  }

  /** Each reply as it is kept; a slow subscriber loses the oldest beyond FEED_CAPACITY. */
  inboundReceived(): AsyncIterable<InboundMessageRow> {
    const queue: BoundedQueue<InboundMessageRow> = new BoundedQueue(
      FEED_CAPACITY,
      () => this.replies.delete(queue),
      () => logRepeated(this.log, 'warn', { capacity: FEED_CAPACITY }, 'slow subscriber: dropping its oldest replies'),
    );
    this.replies.add(queue);
    return queue;
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    for (const watch of [...this.watches.values()]) watch.close();
    this.statisticsWatch?.close();
    for (const set of [...this.feeds.values()]) for (const q of set) q.end();
    for (const q of [...this.lists, ...this.directories, ...this.replies]) q.end();
  }

  private async publishInbound(id: number): Promise<void> {
    try {
      const row = await findInbound(this.db, id);
      if (row) for (const queue of this.replies) queue.push(row);
    } catch (err) {
      logRepeated(this.log, 'error', { err, inboundId: id }, 'reading a kept reply for subscribers failed');
    }
  }

  private async publishMessages(mailingId: number, ids: number[]): Promise<void> {
    try {
      const rows = await this.db.select().from(messages).where(inArray(messages.id, ids));
      if (rows.length === 0) return;
      const batch = rows.map((message) => ({
        messageId: message.id,
        clientId: message.clientId,
        status: message.status,
        attempts: message.attempts,
        lastError: message.lastError,
        at: message.updatedAt,
        message,
      }));
      for (const queue of this.feeds.get(mailingId) ?? []) queue.push(batch);
    } catch (err) {
      logRepeated(this.log, 'error', { err, mailingId }, 'reading changed messages for subscribers failed');
    }
  }
}

/** What a SharedWatch watches: how to read it, when a new reading is news, when it ends. */
type WatchSource<T> = {
  /** null: it is gone (a deleted mailing) */
  read: () => Promise<T | null>;
  same: (a: T, b: T) => boolean;
  isFinal: (value: T) => boolean;
  /** log fields that name it */
  names: Record<string, unknown>;
};

/**
 * One live value (a mailing's progress, the overall statistics) shared by all its
 * subscribers in this process: at most one read in flight, at most one event per interval
 * however fast things move, and a read at least every heartbeat while anyone watches.
 */
class SharedWatch<T> {
  private readonly subscribers = new Set<BoundedQueue<T>>();
  private last: T | null = null;
  private pending: 'changed' | 'resync' | null = null;
  /** a resync whose read failed (the database was still away): the next read is one too */
  private resyncOwed = false;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout;
  private reading = false;
  private lastEmitAt = 0;
  private closed = false;

  constructor(
    private readonly source: WatchSource<T>,
    private readonly log: Logger,
    private readonly options: LiveOptions,
    private readonly onClose: () => void,
  ) {
    this.heartbeat = setInterval(() => this.changed('changed'), options.heartbeatMs);
  }

  /** Adds a subscriber and gives it a fresh snapshot; null when the value is gone. */
  async join(queue: BoundedQueue<T>): Promise<T | null> {
    let snapshot: T | null;
    try {
      snapshot = await this.source.read();
    } catch (error) {
      if (this.subscribers.size === 0) this.close();
      throw error;
    }
    if (!snapshot) {
      if (this.subscribers.size === 0) this.close();
      return null;
    }
    queue.push(snapshot);
    // Closed while reading: the value became final, or Herald is stopping.
    if (this.closed || this.source.isFinal(snapshot)) {
      queue.end();
      if (this.subscribers.size === 0) this.close();
    } else {
      this.subscribers.add(queue);
      // The first subscriber has this reading: the next refresh sends only what differs from it.
      this.last ??= snapshot;
    }
    return snapshot;
  }

  leave(queue: BoundedQueue<T>): void {
    this.subscribers.delete(queue);
    if (this.subscribers.size === 0) this.close();
  }

  changed(kind: 'changed' | 'resync' | 'deleted'): void {
    if (this.closed) return;
    if (kind === 'deleted') return this.close();
    this.pending = this.pending === 'resync' || this.resyncOwed ? 'resync' : kind;
    if (this.timer || this.reading) return;
    const wait = Math.max(0, this.lastEmitAt + this.options.progressIntervalMs - Date.now());
    this.timer = setTimeout(() => void this.refresh(), wait);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    for (const queue of [...this.subscribers]) queue.end();
    this.subscribers.clear();
    this.onClose();
  }

  private async refresh(): Promise<void> {
    this.timer = undefined;
    const kind = this.pending;
    this.pending = null;
    if (!kind || this.closed) return;
    this.reading = true;
    try {
      const snapshot = await this.source.read();
      if (this.closed) return;
      if (!snapshot) return this.close();
      // A resync (the event channel reconnected) always sends the snapshot; otherwise only
      // a change is worth an event.
      this.resyncOwed = false;
      if (kind === 'resync' || this.last === null || !this.source.same(this.last, snapshot)) {
        this.lastEmitAt = Date.now();
        for (const queue of this.subscribers) queue.push(snapshot);
      }
      this.last = snapshot;
      if (this.source.isFinal(snapshot)) this.close();
    } catch (err) {
      if (kind === 'resync') this.resyncOwed = true;
      logRepeated(this.log, 'error', { err, ...this.source.names }, 'reading a live value for subscribers failed');
    } finally {
      this.reading = false;
      if (this.pending && !this.closed) this.changed(this.pending);
    }
  }
}

/** A mailing's progress: its row and counts, with a rate over the last RATE_WINDOW_MS of readings. */
function progressSource(db: Db, mailingId: number, receiptIdleMs: number): WatchSource<MailingProgressValue> {
  const samples: { at: number; done: number }[] = [];
  // When this watch last saw the status or a count move (from its start: a subscriber to a
  // mailing finished long ago still sees the receipts that come while it watches).
  let movedAt = Date.now();
  let previous: { status: MailingStatus; stats: MessageStatsValue } | null = null;
  return {
    names: { mailingId },
    isFinal: (progress) => progress.settled,
    same: (a, b) => a.status === b.status && a.atRisk === b.atRisk && sameCounts(a.stats, b.stats),
    read: async () => {
      // The row and its counters in one query, one snapshot.
      const found = await findMailingWithStats(db, mailingId);
      if (!found) return null;
      const { mailing, stats } = found;
      const now = Date.now();
      samples.push({ at: now, done: stats.sent + stats.failed });
      while (samples.length > 2 && now - samples[1].at >= RATE_WINDOW_MS) samples.shift();
      const oldest = samples[0];
      const span = (now - oldest.at) / 1000;
      // Only a running mailing moves: a paused one has no rate and no ETA (what it did before
      // it paused says nothing of when it resumes), and is not at risk: it waits for a hand.
      const sending = isSending(mailing.status);
      const ratePerSecond = sending && span >= 0.2 ? Math.max(0, (stats.sent + stats.failed - oldest.done) / span) : 0;
      const moving = sending && ratePerSecond > 0;
      const etaSeconds = stats.pending === 0 ? 0 : moving ? stats.pending / ratePerSecond : null;
      // At risk (this rule's one owner; the console shows it): running, and at the current rate
      // the pending messages will not all go before endAt, or it has not moved for a whole
      // rate window.
      const atRisk =
        sending &&
        stats.pending > 0 &&
        (etaSeconds !== null ? now + etaSeconds * 1000 > mailing.endAt.getTime() : span * 1000 >= RATE_WINDOW_MS || now >= mailing.endAt.getTime());
      if (previous && (previous.status !== mailing.status || !sameCounts(previous.stats, stats))) movedAt = now;
      previous = { status: mailing.status, stats };
      const settled = isFinal(mailing.status) && (stats.awaitingReceipt === 0 || now - movedAt >= receiptIdleMs);
      return { mailingId, mailing, status: mailing.status, stats, ratePerSecond, etaSeconds, atRisk, at: new Date(now), settled };
    },
  };
}

function statisticsSource(db: Db): WatchSource<StatisticsValue> {
  return {
    names: { watch: 'statistics' },
    isFinal: () => false,
    same: (a, b) => a.mailingCount === b.mailingCount && sameCounts(a.messages, b.messages),
    read: () => readStatistics(db),
  };
}

function sameCounts(a: MessageStatsValue, b: MessageStatsValue): boolean {
  return a.byStatus.every((s, i) => s.count === b.byStatus[i].count);
}
