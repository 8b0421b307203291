import type { Db } from '../db/connection';
import type { LiveUpdates } from '../live/live-updates';
import type { Logger } from '../logger';
import type { CampaignRules } from '../mailings/campaign.rules';
import type { SettledObserver } from '../mailings/mailing.lifecycle';
import type { MailingTimers } from '../mailings/mailing.timers';
import type { CostBudget } from '../ratelimit/cost-budget';
import type { FailedAuthLimiter } from '../ratelimit/failed-auth';
import type { ProviderDirectory } from '../providers/provider.directory';
import type { ReportQueue } from '../reports/report.service';
import type { TestSender } from '../testsend/test-send.service';
import type { WebhookPolicy } from '../webhooks/webhook.service';

/**
 * What an api process serves requests with, built once in main.ts and shared by every
 * request and subscription. This is the one list of them: the GraphQL context is these plus
 * the principal and the request's loaders (context.ts). The imports above are types only:
 * this module names the ports the capabilities own and runs no code of theirs, so that
 * capabilities can import the contract without depending on one another through it.
 */
export type Services = {
  db: Db;
  log: Logger;
  /** to be told when a mailing's times or status change */
  timers: MailingTimers;
  /** what subscriptions read */
  live: LiveUpdates;
  /** the configured campaign rules (segments, frequency cap, failure rate) */
  campaign: CampaignRules;
  /** the providers as the workers see them (the providers query and subscription) */
  providers: ProviderDirectory;
  /** the gateway for test sends */
  testSender: TestSender;
  /** where sendStatisticsReport queues its job */
  reports: ReportQueue;
  /** which webhook URLs are allowed (NODE_ENV, WEBHOOK_ALLOW_PRIVATE) */
  webhookPolicy: WebhookPolicy;
  /** told of messages a cancellation settles at once (metrics) */
  onSettled?: SettledObserver;
  /** what the gate spends and counts before an operation runs */
  budgets: {
    /** each principal's cost per minute (RATE_LIMIT_COST_PER_MINUTE) */
    cost: CostBudget;
    /** failed authentications per address (AUTH_FAILURES_PER_MINUTE) */
    failedAuth: FailedAuthLimiter;
  };
};
