import { UserInputError } from '../common/errors';
import type { Db } from '../db/connection';
import type { Logger } from '../logger';
import { composeReport } from './report.compose';
import type { ReportMailer } from './report.mailer';
import { mailingsRunBetween } from './report.store';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What a report job asks for; a scheduled one has no period (the day before it was due). */
export type ReportRequest = { to?: string; timezone?: string; since?: string; until?: string };

/** Something that takes report jobs to run once, elsewhere (a worker), with retries. */
export interface ReportQueue {
  request(job: ReportRequest): Promise<void>;
}

/**
 * Runs one report job: reads the figures of [since, until), composes the mail and hands it
 * to the mailer. Its period is fixed by the job (a retry reports the same day); a failure
 * is thrown, for the job to be tried again.
 */
export async function runReport(
  db: Db,
  mailer: ReportMailer,
  log: Logger,
  settings: { to: string | null; timezone: string },
  job: ReportRequest,
  createdOn: Date,
  retryCount: number,
): Promise<void> {
  const to = job.to ?? settings.to;
  if (!to) {
    log.warn('a statistics report is due but has no recipient (REPORT_TO); nothing sent');
    return;
  }
  const until = job.until ? new Date(job.until) : createdOn;
  const since = job.since ? new Date(job.since) : new Date(until.getTime() - DAY_MS);
  const mailings = await mailingsRunBetween(db, since, until);
  const report = composeReport(mailings, since, until, job.timezone ?? settings.timezone);
  try {
    const where = await mailer.send(to, report);
    log.info({ mailings: mailings.length, since, until, attempt: retryCount + 1, where: where.startsWith('smtp') ? 'smtp' : 'outbox' }, 'statistics report sent');
  } catch (err) {
    log.warn({ err, attempt: retryCount + 1 }, 'sending the statistics report failed; it will be tried again');
    throw err;
  }
}

// One address, as a person types it: something@host.domain, no spaces or list separators.
const ADDRESS = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;

/** An operator's "send the report now": checked here, run by a worker (sendStatisticsReport). */
export async function requestReport(queue: ReportQueue, to: string, since: Date | null, now = new Date()): Promise<void> {
  const address = to.trim();
  if (!ADDRESS.test(address) || address.length > 254) throw new UserInputError('to', 'must be one e-mail address such as ops@example.com');
  if (since && !(since.getTime() < now.getTime())) throw new UserInputError('since', 'must be in the past');
  await queue.request({ to: address, since: (since ?? new Date(now.getTime() - DAY_MS)).toISOString(), until: now.toISOString() });
}
