import { answerWithin } from '../db/answer-within';
import type { Db } from '../db/connection';
import { logRepeated, type Logger } from '../logger';
import { deleteProviderStates, sweepProviderStates, writeProviderStates, type ProviderStateRow } from './provider-state.store';
import type { ProviderSnapshot } from './provider.type';

export type { ProviderSnapshot };

/** Where the reporter reads the providers of this process from (the router, in main.ts). */
export interface ProviderSnapshotSource {
  snapshots(): ProviderSnapshot[];
  /** a state, reason or binds change (not every rate tick); returns the unsubscribe */
  onChange(listener: () => void): () => void;
}

export type ReporterOptions = {
  /** rows are rewritten this often, so that they stay fresh and rates current */
  intervalMs: number;
  /** a change is written this soon after it is heard, however many come meanwhile */
  debounceMs: number;
  /** rows older than this (a process gone without deleting its own) are swept, now and then */
  staleMs: number;
  /** a write (or the delete at a stop) not answered by then is given up on: a hung call must not stop the reports, nor a shutdown */
  answerMs: number;
};

export const REPORTER_DEFAULTS: ReporterOptions = { intervalMs: 1_000, debounceMs: 75, staleMs: 60_000, answerMs: 3_000 };

const SWEEP_EVERY = 30; // intervals

/**
 * A worker process's part of provider_states: its snapshots written every interval and soon
 * after each change, a change announced on the event channel so that api processes re-read
 * at once, and its rows deleted when it stops. It never throws: while the database is away
 * it says so (once in a while) and tries again at the next interval.
 */
export class ProviderStateReporter {
  private interval: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private offChange: (() => void) | undefined;
  private writing: Promise<void> | null = null;
  /** a write was asked for while one was under way; true: one that announces */
  private queued: boolean | null = null;
  /** what the api processes were last told of, per provider: a difference is announced */
  private announced = new Map<string, string>();
  private ticks = 0;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly owner: string,
    private readonly source: ProviderSnapshotSource,
    private readonly log: Logger,
    private readonly options: ReporterOptions = REPORTER_DEFAULTS,
  ) {}

  start(): void {
    this.offChange = this.source.onChange(() => this.changed());
    this.interval = setInterval(() => {
      if (++this.ticks % SWEEP_EVERY === 0) void this.sweep();
      this.write(false);
    }, this.options.intervalMs);
    this.write(true);
  }

  /** Stops writing, lets a write under way finish, and deletes this process's rows. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.offChange?.();
    clearInterval(this.interval);
    clearTimeout(this.debounce);
    this.queued = null;
    await this.writing;
    try {
      await answerWithin(deleteProviderStates(this.db, this.owner), this.options.answerMs, "deleting this process's provider states");
    } catch (err) {
      // Its rows stop being fresh within seconds: the api processes drop them then.
      logRepeated(this.log, 'warn', { err }, "deleting this process's provider states failed; they go stale instead");
    }
  }

  private changed(): void {
    if (this.stopped || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.write(true);
    }, this.options.debounceMs);
  }

  private write(announce: boolean): void {
    if (this.stopped) return;
    if (this.writing) {
      this.queued = (this.queued ?? false) || announce;
      return;
    }
    this.writing = this.writeNow(announce).finally(() => {
      this.writing = null;
      const next = this.queued;
      this.queued = null;
      if (next !== null) this.write(next);
    });
  }

  private async writeNow(announce: boolean): Promise<void> {
    let rows: ProviderStateRow[];
    try {
      rows = this.source.snapshots().map(toRow);
    } catch (err) {
      return logRepeated(this.log, 'error', { err }, 'reading the providers of this process failed');
    }
    // A change the source did not signal (or whose announcement failed) is announced all the same.
    const seen = new Map(rows.map((r) => [r.provider, `${r.state}|${r.reason ?? ''}|${r.bindsUp ?? ''}|${r.binds ?? ''}`]));
    const differs = seen.size !== this.announced.size || [...seen].some(([p, v]) => this.announced.get(p) !== v);
    try {
      await answerWithin(writeProviderStates(this.db, this.owner, rows, announce || differs), this.options.answerMs, "writing the providers' states");
      this.announced = seen;
    } catch (err) {
      if (announce || differs) this.announced = new Map(); // owed: the next write announces
      logRepeated(this.log, 'warn', { err }, 'writing the providers\' states failed; trying again');
    }
  }

  private async sweep(): Promise<void> {
    try {
      const swept = await answerWithin(sweepProviderStates(this.db, this.options.staleMs), this.options.answerMs, 'sweeping stale provider states');
      if (swept > 0) this.log.info({ swept }, 'swept provider states of processes gone without deleting them');
    } catch (err) {
      logRepeated(this.log, 'warn', { err }, 'sweeping stale provider states failed');
    }
  }
}

function toRow(s: ProviderSnapshot): ProviderStateRow {
  return {
    provider: s.name,
    type: s.type,
    state: s.state,
    reason: s.reason,
    inFlight: s.inFlight,
    bindsUp: s.bindsUp,
    binds: s.binds,
    partsPerSecond: s.partsPerSecond,
    sentPerSecond: s.sentPerSecond,
  };
}
