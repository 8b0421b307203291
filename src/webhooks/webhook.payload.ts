import { createHmac, randomBytes } from 'node:crypto';

/** The id receivers see (payload `id`, header `webhook-id`): the same on every retry. */
export const eventIdOf = (id: number): string => `evt_${id}`;

/** The JSON body of an event, as sent and as `WebhookDelivery.payload` shows it. */
export function payloadOf(event: { id: number; type: string; createdAt: string | Date; data: unknown }): string {
  const timestamp = typeof event.createdAt === 'string' ? event.createdAt : event.createdAt.toISOString();
  return JSON.stringify({ id: eventIdOf(event.id), type: event.type, timestamp, data: event.data });
}

/** A new signing secret: `whsec_` and the base64 of 24 random bytes (Standard Webhooks). */
export const newSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

/**
 * The Standard Webhooks headers of one attempt: `webhook-signature` is `v1,` and the base64
 * HMAC-SHA256 of "<id>.<timestamp>.<body>", keyed by the secret's base64-decoded part.
 */
export function signedHeaders(secret: string, id: string, body: string, unixSeconds: number): Record<string, string> {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${unixSeconds}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(unixSeconds), 'webhook-signature': `v1,${signature}` };
}
