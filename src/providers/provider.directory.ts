import type { Db } from '../db/connection';
import type { EventBus } from '../events/event.bus';
import { BoundedQueue } from '../live/bounded-queue';
import { logRepeated, type Logger } from '../logger';
import { readProviderAggregates, type ProviderStateAggregate } from './provider-state.store';
import type { ProviderKind, ProviderValue } from './provider.type';

/**
 * What an api process answers about the providers: every configured provider as the worker
 * processes report it through PostgreSQL (provider_states), the same from every api process.
 */
export interface ProviderDirectory {
  list(): Promise<ProviderValue[]>;
  /** the list at once, then on every change */
  changes(): AsyncIterableIterator<ProviderValue[]>;
}

/** A provider as the configuration names it: what the api knows without asking any worker. */
export type ConfiguredProvider = { name: string; type: ProviderKind; partsPerSecond: number; simulated?: boolean };

export type DirectoryOptions = {
  /** a worker's row older than this is not counted (its process is gone or stuck) */
  freshMs: number;
  /** subscribers' list is re-read this often, for rates and rows going stale */
  refreshMs: number;
  /** events heard within this are read once */
  coalesceMs: number;
};

export const DIRECTORY_DEFAULTS: DirectoryOptions = { freshMs: 5_000, refreshMs: 1_000, coalesceMs: 50 };

export const NO_WORKER_REASON = 'no worker process reports it';

/**
 * The providers from provider_states, merged over the worker processes. Subscribers share
 * one reader: one query per refresh or event for all of them, an event to each only when
 * the list differs, and at most the latest list kept for a slow one.
 */
export class PgProviderDirectory implements ProviderDirectory {
  private readonly subscribers = new Set<BoundedQueue<ProviderValue[]>>();
  /** joined, not given a list yet: the next read goes to them whatever it holds */
  private readonly waiting = new Set<BoundedQueue<ProviderValue[]>>();
  private last: { list: ProviderValue[]; key: string } | null = null;
  private refresh: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private reading = false;
  private readAgain = false;
  private readonly unsubscribe: (() => void)[];
  private stopped = false;

  constructor(
    private readonly db: Db,
    bus: EventBus,
    private readonly log: Logger,
    private readonly configured: readonly ConfiguredProvider[],
    private readonly options: DirectoryOptions = DIRECTORY_DEFAULTS,
  ) {
    this.unsubscribe = [
      bus.subscribe((event) => {
        if (event.t === 'providers') this.readSoon();
      }),
      // NOTIFYs were lost while the channel was down: what the rows say now.
      bus.onResync(() => this.readSoon()),
    ];
  }

  async list(): Promise<ProviderValue[]> {
    return mergeProviders(this.configured, await readProviderAggregates(this.db, this.options.freshMs));
  }

  changes(): AsyncIterableIterator<ProviderValue[]> {
    const queue: BoundedQueue<ProviderValue[]> = new BoundedQueue(1, () => this.leave(queue));
    // Each item is the whole list: a subscriber joining a shared execution gets the latest (subscription.fanout.ts).
    queue.snapshots = true;
    if (this.stopped) {
      queue.end();
      return queue;
    }
    this.subscribers.add(queue);
    // The shared reader's list is at most a refresh old, and any announced change since has
    // been read: it is the list now. The first subscriber waits for the first read.
    if (this.last && this.refresh) queue.push(this.last.list);
    else this.waiting.add(queue);
    if (!this.refresh) {
      this.refresh = setInterval(() => this.readSoon(), this.options.refreshMs);
      this.readSoon(0);
    }
    return queue;
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    for (const queue of [...this.subscribers]) queue.end();
    this.idle();
  }

  private leave(queue: BoundedQueue<ProviderValue[]>): void {
    this.subscribers.delete(queue);
    this.waiting.delete(queue);
    if (this.subscribers.size === 0) this.idle();
  }

  /** Nobody watches: no more reads, and the next subscriber starts afresh. */
  private idle(): void {
    clearInterval(this.refresh);
    clearTimeout(this.soon);
    this.refresh = undefined;
    this.soon = undefined;
    this.last = null;
  }

  private readSoon(delayMs = this.options.coalesceMs): void {
    if (this.subscribers.size === 0 || this.stopped) return;
    if (this.reading) return void (this.readAgain = true);
    this.soon ??= setTimeout(() => void this.read(), delayMs);
  }

  private async read(): Promise<void> {
    this.soon = undefined;
    if (this.subscribers.size === 0) return;
    this.reading = true;
    try {
      const list = await this.list();
      if (this.subscribers.size === 0) return;
      const key = JSON.stringify(list);
      const changed = this.last?.key !== key;
      this.last = { list, key };
      for (const queue of changed ? this.subscribers : this.waiting) queue.push(list);
      this.waiting.clear();
    } catch (err) {
      logRepeated(this.log, 'error', { err }, "reading the providers' states for subscribers failed");
    } finally {
      this.reading = false;
      if (this.readAgain) {
        this.readAgain = false;
        this.readSoon();
      }
    }
  }
}

/**
 * Every configured provider, in the configuration's order, over the workers that report it:
 * UP when all see it up, DOWN when all see it down, else DEGRADED; DOWN when none does.
 * Rows of providers this process has not configured are left out.
 */
export function mergeProviders(configured: readonly ConfiguredProvider[], reported: readonly ProviderStateAggregate[]): ProviderValue[] {
  const byName = new Map(reported.map((r) => [r.provider, r]));
  return configured.map((p) => {
    const r = byName.get(p.name);
    const base = { name: p.name, type: p.type, partsPerSecond: p.partsPerSecond, simulated: p.simulated ?? false };
    if (!r || r.workers === 0) {
      return { ...base, state: 'DOWN', reason: NO_WORKER_REASON, inFlight: 0, sentPerSecond: 0, bindsUp: p.type === 'SMPP' ? 0 : null };
    }
    const state = r.up === r.workers ? 'UP' : r.down === r.workers ? 'DOWN' : 'DEGRADED';
    return { ...base, state, reason: state === 'UP' ? null : reasonOver(r), inFlight: r.inFlight, sentPerSecond: round(r.sentPerSecond), bindsUp: r.bindsUp };
  });
}

/** The reason most workers give, saying how many when not all; or, with none given, how many see it down. */
function reasonOver(r: ProviderStateAggregate): string {
  const top = r.reasons[0];
  if (!top) return r.down > 0 ? `${r.down} of ${r.workers} worker processes see it DOWN` : `${r.workers - r.up} of ${r.workers} worker processes see it DEGRADED`;
  return top.workers === r.workers ? top.reason : `${top.workers} of ${r.workers} worker processes: ${top.reason}`;
}

/** Rates to the hundredth: a float's last digits are not a change worth an event. */
function round(n: number): number {
  return Math.round(n * 100) / 100;
}
