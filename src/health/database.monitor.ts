import postgres from 'postgres';
import { answerWithin, NoAnswerError } from '../db/answer-within';
import { describeDatabaseError } from '../db/errors';
import type { Logger } from '../logger';

export type DatabaseMonitorOptions = {
  /** how often the database is asked whether it answers */
  probeMs: number;
  /** the URL goes through a pooler in transaction mode: its probe is not prepared (connectDatabase's `pooled`) */
  pooled?: boolean;
  /** a probe not answered within this counts as no answer */
  timeoutMs: number;
};

/**
 * Whether the database answers, asked every `probeMs` on a connection of its own (so that a
 * probe never queues behind the pools' work). While it does not, GraphQL operations are
 * refused at once with SERVICE_UNAVAILABLE instead of each waiting for its own timeout, and
 * /readyz says why. A probe that gets no answer (a paused or partitioned server keeps the
 * socket open and says nothing) throws its connection away: the next probe connects afresh,
 * so the first one after the server is back succeeds.
 */
export class DatabaseMonitor {
  private client: postgres.Sql | null = null;
  private timer: NodeJS.Timeout | undefined;
  private down: { reason: string; since: Date } | null = null;
  private stopped = false;
  private readonly recoveredListeners = new Set<() => void>();
  private readonly downListeners = new Set<(reason: string) => void>();

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    private readonly options: DatabaseMonitorOptions,
  ) {}

  start(): void {
    this.schedule(this.options.probeMs);
  }

  /** null while the database answers; else why not, and since when. */
  problem(): string | null {
    return this.down ? `${this.down.reason} (since ${this.down.since.toISOString()})` : null;
  }

  /** Called once each time the database stops answering (what waits on it need wait no longer). */
  onDown(listener: (reason: string) => void): () => void {
    this.downListeners.add(listener);
    return () => this.downListeners.delete(listener);
  }

  /** Called once each time the database answers again after it did not. */
  onRecovered(listener: () => void): () => void {
    this.recoveredListeners.add(listener);
    return () => this.recoveredListeners.delete(listener);
  }

  /** Probes now; resolves with the problem (null: fine). */
  async probe(): Promise<string | null> {
    const client = (this.client ??= postgres(this.url, {
      max: 1,
      onnotice: () => {},
      // Through a pooler, its connections must not read types either (fetchTypesOnce): a probe needs none.
      ...(this.options.pooled ? { prepare: false, fetch_types: false } : {}),
      connect_timeout: this.options.timeoutMs / 1000,
      idle_timeout: 60,
      connection: { application_name: 'herald-health' },
    }));
    try {
      await answerWithin(client`select 1`, this.options.timeoutMs, 'probe');
      this.markUp();
    } catch (error) {
      if (this.client === client) {
        this.client = null;
        void client.end({ timeout: 0 }).catch(() => {});
      }
      // /readyz shows this reason: as before, "no answer within N ms" for a silent server.
      this.markDown(error instanceof NoAnswerError ? `no answer within ${this.options.timeoutMs} ms` : describeDatabaseError(error));
    }
    return this.problem();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.client?.end({ timeout: 1 }).catch(() => {});
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.probe().finally(() => this.schedule(this.options.probeMs));
    }, ms);
    this.timer.unref();
  }

  private markDown(reason: string): void {
    if (this.stopped) return;
    if (!this.down) {
      this.down = { reason, since: new Date() };
      this.log.error({ reason }, 'the database does not answer: requests are refused with SERVICE_UNAVAILABLE until it does');
      for (const listener of this.downListeners) listener(reason);
    } else {
      this.down.reason = reason;
    }
  }

  private markUp(): void {
    if (!this.down) return;
    const downForMs = Date.now() - this.down.since.getTime();
    this.down = null;
    this.log.warn({ downForMs }, 'the database answers again');
    for (const listener of this.recoveredListeners) listener();
  }
}
