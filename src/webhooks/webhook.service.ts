import type { Principal } from '../auth/tokens';
import { ForbiddenError, InputProblems, NotFoundError, UserInputError } from '../common/errors';
import { toPage, type Page, type PageRequest } from '../common/page';
import type { Db } from '../db/connection';
import type { Logger } from '../logger';
import { urlProblem } from './webhook.address';
import { eventIdOf, newSecret, payloadOf } from './webhook.payload';
import * as store from './webhook.store';
import type { WebhookRow } from './webhook.table';
import { WEBHOOK_EVENTS, type WebhookEventValue } from './webhook.type';

/** What decides whether a URL is allowed (config: NODE_ENV, WEBHOOK_ALLOW_PRIVATE). */
export type WebhookPolicy = { production: boolean; allowPrivate: boolean };

const MAX_URL_LENGTH = 2_000;
const MAX_DESCRIPTION_LENGTH = 500;

/** Webhooks hold where Herald's data goes: admins only, reading included. */
export function assertAdmin(principal: Principal): void {
  if (principal.role !== 'admin') throw new ForbiddenError(`role ${principal.role} may not see or change webhooks`);
}

async function checkUrl(url: string, policy: WebhookPolicy): Promise<string> {
  const u = url.trim();
  if (u.length > MAX_URL_LENGTH) throw new UserInputError('url', `must be at most ${MAX_URL_LENGTH} characters`);
  const problem = await urlProblem(u, policy.allowPrivate || !policy.production);
  if (problem) throw new UserInputError('url', problem);
  return u;
}

function checkEvents(events: readonly string[]): WebhookEventValue[] {
  if (events.length === 0) throw new UserInputError('events', 'must name at least one event');
  const unknown = events.find((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (unknown) throw new UserInputError('events', `${unknown} is not a webhook event`);
  return [...new Set(events)] as WebhookEventValue[];
}

function checkDescription(description: string | null | undefined): string | null {
  const d = description?.trim() || null;
  if (d && d.length > MAX_DESCRIPTION_LENGTH) throw new UserInputError('description', `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  return d;
}

export async function createWebhook(
  db: Db,
  log: Logger,
  policy: WebhookPolicy,
  input: { url: string; events: string[]; description?: string | null },
): Promise<{ webhook: WebhookRow; secret: string }> {
  // Every field's problem at once (extensions.fields).
  const problems = new InputProblems();
  const url = (await problems.checkAsync(() => checkUrl(input.url, policy)))!;
  const events = problems.check(() => checkEvents(input.events))!;
  const description = problems.check(() => checkDescription(input.description))!;
  problems.done();
  const secret = newSecret();
  const webhook = await store.insertWebhook(db, { url, events, description, secret });
  // The URL may carry a token of the receiver's in its query: only the id and events are logged.
  log.info({ webhookId: webhook.id, events }, 'webhook created');
  return { webhook, secret };
}

export async function updateWebhook(
  db: Db,
  log: Logger,
  policy: WebhookPolicy,
  id: number,
  input: { url?: string | null; events?: string[] | null; description?: string | null; enabled?: boolean | null },
): Promise<WebhookRow> {
  const set: Parameters<typeof store.updateWebhook>[2] = {};
  const problems = new InputProblems();
  if (input.url != null) set.url = await problems.checkAsync(() => checkUrl(input.url!, policy));
  if (input.events != null) set.events = problems.check(() => checkEvents(input.events!));
  if (input.description !== undefined) set.description = problems.check(() => checkDescription(input.description));
  problems.done();
  if (input.enabled != null) {
    set.enabled = input.enabled;
    // Re-enabled: a fresh start, its failures so far forgotten.
    if (input.enabled) Object.assign(set, { disabledReason: null, failingSince: null });
  }
  const row = await store.updateWebhook(db, id, set);
  if (!row) throw new NotFoundError('webhook', id);
  log.info({ webhookId: id, enabled: row.enabled }, 'webhook updated');
  return row;
}

export async function deleteWebhook(db: Db, log: Logger, id: number): Promise<boolean> {
  const gone = await store.deleteWebhook(db, id);
  if (!gone) throw new NotFoundError('webhook', id);
  log.info({ webhookId: id }, 'webhook deleted');
  return true;
}

export async function testWebhook(db: Db, log: Logger, id: number): Promise<DeliveryValue> {
  if (!(await store.getWebhook(db, id))) throw new NotFoundError('webhook', id);
  const delivery = await store.insertTestDelivery(db, id);
  log.info({ webhookId: id, eventId: eventIdOf(delivery.id) }, 'webhook test event queued');
  return toDeliveryValue(delivery);
}

export type DeliveryValue = {
  id: number;
  eventId: string;
  type: string;
  status: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  payload: string;
};

function toDeliveryValue(d: store.DeliveryView): DeliveryValue {
  return {
    id: d.id,
    eventId: eventIdOf(d.id),
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    lastError: d.lastError,
    createdAt: d.eventAt,
    nextAttemptAt: d.status === 'PENDING' ? d.nextAttemptAt : null,
    deliveredAt: d.deliveredAt,
    payload: payloadOf({ id: d.id, type: d.type, createdAt: d.eventAt, data: d.data }),
  };
}

export async function listDeliveries(db: Db, webhookId: number, req: PageRequest): Promise<Page<DeliveryValue>> {
  const rows = (await store.listDeliveries(db, webhookId, req)).map(toDeliveryValue);
  return toPage(rows, req, () => store.countAllDeliveries(db, webhookId));
}

export const listWebhooks = (db: Db): Promise<WebhookRow[]> => store.listWebhooks(db);
export const getWebhook = (db: Db, id: number): Promise<WebhookRow | undefined> => store.getWebhook(db, id);
export const countDeliveries = (db: Db, webhookId: number, status: 'PENDING' | 'FAILED'): Promise<number> => store.countDeliveries(db, webhookId, status);
