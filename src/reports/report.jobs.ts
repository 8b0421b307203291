import path from 'node:path';
import type { Config } from '../config';
import type { Db } from '../db/connection';
import type { Logger } from '../logger';
import type { PgBossTimers } from '../timers/timer.pgboss';
import { ReportMailer } from './report.mailer';
import { runReport, type ReportQueue, type ReportRequest } from './report.service';

export const REPORT_QUEUE = 'statistics-report';

/**
 * The report queue's policy: a job whose SMTP server refuses is tried again after
 * REPORT_RETRY_DELAY_S, then twice as long each time, 8 times (over four hours at the
 * default), on whichever worker fetches it; dispatch never waits for it.
 */
export function reportQueueOptions(config: Config) {
  return { policy: 'standard' as const, retryLimit: 8, retryDelay: config.report.retryDelayS, retryBackoff: true, expireInSeconds: 300 };
}

export function reportQueue(timers: PgBossTimers): ReportQueue {
  return { request: (job) => timers.enqueue(REPORT_QUEUE, job) };
}

/**
 * In a worker process: the schedule (REPORT_CRON in REPORT_TIMEZONE, to REPORT_TO; removed
 * without REPORT_TO) and the runner of report jobs, whoever queued them. Returns what
 * closes the mailer.
 */
export async function startReports(config: Config, db: Db, timers: PgBossTimers, log: Logger, pollMs: number): Promise<() => Promise<void>> {
  const r = config.report;
  const mailer = new ReportMailer({ smtpUrl: r.smtpUrl, from: r.from, outboxDir: path.join(config.dataDir, 'outbox') }, log);
  const scheduled: ReportRequest = { to: r.to ?? undefined, timezone: r.timezone };
  await timers.scheduleCron(REPORT_QUEUE, r.to ? r.cron : null, r.timezone, scheduled);
  await timers.workOn<ReportRequest>(REPORT_QUEUE, (job, meta) => runReport(db, mailer, log, r, job, meta.createdOn, meta.retryCount), pollMs);
  return async () => mailer.close();
}
