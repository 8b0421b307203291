import PgBoss from 'pg-boss';
import postgres from 'postgres';
import { logRepeated, type Logger } from '../logger';
import { timersNeeded, type TimerKind } from '../mailings/mailing.transitions';
import type { MailingRow } from '../mailings/mailing.table';
import type { MailingTimerHandlers, MailingTimers } from '../mailings/mailing.timers';

const START = 'mailing-start';
const END = 'mailing-end';
const QUEUES: Record<TimerKind, string> = { start: START, end: END };
// An arbitrary constant that names "pg-boss set-up" among advisory locks.
const SETUP_LOCK_KEY = 7_214_630_002;

/**
 * pg-boss runs Herald's timers, never its messages: one job at a mailing's startAt and
 * one at its endAt. Handlers are conditional transitions, so a stale job (the mailing's
 * times moved since) or a duplicate does nothing. Timers are also recoverable from the
 * rows: `sweep` finds overdue mailings at start and every `sweepMs`, in case a job was
 * never sent (a crash right after a mailing was written).
 */
export class PgBossTimers implements MailingTimers {
  private sweepTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly boss: PgBoss,
    private readonly log: Logger,
  ) {}

  /**
   * `cron`: this process takes part in running cron schedules (the daily report): every
   * `cronIntervalS` one of the processes that do looks whether a schedule is due, and sends
   * its job once (pg-boss's singleton per schedule and minute), whichever process does.
   * `queues` are created (or updated) with the timers' own, under the same lock.
   */
  static async start(
    databaseUrl: string,
    log: Logger,
    opts: {
      timeouts: { connectTimeoutMs: number; statementTimeoutMs: number };
      cron?: boolean;
      cronIntervalS?: number;
      queues?: { name: string; options: Omit<PgBoss.Queue, 'name'> }[];
    },
  ): Promise<PgBossTimers> {
    const { timeouts } = opts;
    const cronIntervalS = Math.min(45, Math.max(1, Math.round(opts.cronIntervalS ?? 30)));
    const boss = new PgBoss({
      connectionString: databaseUrl,
      max: 4,
      application_name: 'herald-timers',
      schedule: opts.cron ?? false,
      cronMonitorIntervalSeconds: cronIntervalS,
      cronWorkerIntervalSeconds: cronIntervalS,
      // Passed on to its pg pool: without a connection timeout, a send or a poll waits for
      // ever on a database that is paused or cut off (pg's default).
      connectionTimeoutMillis: timeouts.connectTimeoutMs,
      ...(timeouts.statementTimeoutMs ? { statement_timeout: timeouts.statementTimeoutMs, query_timeout: timeouts.statementTimeoutMs + timeouts.connectTimeoutMs } : {}),
    } as PgBoss.ConstructorOptions);
    // pg-boss reports a database that is away through 'error' (its pool, its workers'
    // polling, its maintenance) and goes on trying: a line, not a crash, and one per interval.
    boss.on('error', (err) => logRepeated(log, 'error', { err }, 'pg-boss error'));
    // pg-boss installs its schema and creates queues with statements that deadlock when two
    // processes start at once; one at a time, under an advisory lock, they cannot.
    const lock = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await lock`select pg_advisory_lock(${SETUP_LOCK_KEY})`;
      await boss.start();
      for (const name of [START, END]) {
        if (!(await boss.getQueue(name))) {
          await boss.createQueue(name, { name, policy: 'standard', retryLimit: 5, retryDelay: 1, retryBackoff: true });
        }
      }
      for (const { name, options } of opts.queues ?? []) {
        if (await boss.getQueue(name)) await boss.updateQueue(name, { name, ...options });
        else await boss.createQueue(name, { name, ...options });
      }
    } finally {
      await lock.end({ timeout: 5 });
    }
    return new PgBossTimers(boss, log);
  }

  /** Sends the jobs the lifecycle says the mailing needs now (timersNeeded), once per instant. */
  async mailingChanged(mailing: MailingRow): Promise<void> {
    for (const { kind, at } of timersNeeded(mailing)) {
      await this.boss.send(QUEUES[kind], { mailingId: mailing.id }, { startAfter: at, singletonKey: `${mailing.id}@${at.getTime()}` });
    }
  }

  /** Runs the timers in this process (worker role). */
  async work(handlers: MailingTimerHandlers, opts: { pollMs: number; sweepMs: number }): Promise<void> {
    const pollingIntervalSeconds = Math.max(0.5, opts.pollMs / 1000);
    const handle = (fn: (id: number) => Promise<void>) => async (jobs: PgBoss.Job<{ mailingId: number }>[]) => {
      for (const job of jobs) await fn(job.data.mailingId);
    };
    await this.boss.work(START, { pollingIntervalSeconds, batchSize: 20 }, handle(handlers.start));
    await this.boss.work(END, { pollingIntervalSeconds, batchSize: 20 }, handle(handlers.end));
    const sweep = () =>
      handlers.sweep().catch((err) => logRepeated(this.log, 'error', { err }, 'sweeping overdue mailings failed'));
    await sweep();
    this.sweepTimer = setInterval(() => void sweep(), opts.sweepMs);
  }

  /** A job on one of the `queues`, run once by one process that works it. */
  async enqueue(queue: string, data: object): Promise<void> {
    const id = await this.boss.send(queue, data);
    if (id === null) throw new Error(`queue ${queue} refused the job`);
  }

  /**
   * Sends a job with `data` to `queue` at every `cron` in `tz`; null: never. The schedule is
   * kept in the database, one per queue: the last process to start sets it for all.
   */
  async scheduleCron(queue: string, cron: string | null, tz: string, data: object = {}): Promise<void> {
    if (cron === null) await this.boss.unschedule(queue);
    else await this.boss.schedule(queue, cron, data, { tz });
  }

  /**
   * Runs `queue`'s jobs in this process, one at a time; a handler that throws has its job
   * tried again as the queue's retry policy says. The handler gets the job's data, when it
   * was created and how many times it has been tried before.
   */
  async workOn<T extends object>(queue: string, handler: (data: T, job: { createdOn: Date; retryCount: number }) => Promise<void>, pollMs: number): Promise<void> {
    await this.boss.work<T>(queue, { pollingIntervalSeconds: Math.max(0.5, pollMs / 1000), batchSize: 1, includeMetadata: true }, async ([job]) => {
      await handler(job.data, { createdOn: job.createdOn, retryCount: job.retryCount });
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  }
}
