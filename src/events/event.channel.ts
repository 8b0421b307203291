import { sql, type SQL } from 'drizzle-orm';

/**
 * Events cross processes as Postgres NOTIFY on one channel. Payloads stay small (ids and a
 * status; well under NOTIFY's 8000 bytes): a listener reads whatever else it needs. NOTIFY
 * is delivered on commit, so an event never runs ahead of the change it announces.
 */
export const EVENT_CHANNEL = 'herald_events';

export const MAILING_EVENT_KINDS = ['CREATED', 'UPDATED', 'STARTED', 'PAUSED', 'RESUMED', 'RETRIED', 'COMPLETED', 'CANCELLED', 'DELETED'] as const;
export type MailingEventKind = (typeof MAILING_EVENT_KINDS)[number];

export type HeraldEvent =
  /** a mailing's lifecycle moved (status is null once deleted) */
  | { t: 'mailing'; m: number; k: MailingEventKind; s: string | null }
  /** messages of a mailing changed through sending; at most MESSAGE_IDS_PER_EVENT ids */
  | { t: 'messages'; m: number; ids: number[] }
  /** the client directory changed (created, updated, deleted, imported): counts may differ */
  | { t: 'clients' }
  /** a worker process saw a provider's state, reason or binds change (or stopped): re-read provider_states */
  | { t: 'providers' }
  /** a reply was kept (inbound_messages.id): subscribers read the row */
  | { t: 'inbound'; id: number };

export const MESSAGE_IDS_PER_EVENT = 300;

const notify = (event: HeraldEvent): SQL => sql`select pg_notify(${EVENT_CHANNEL}, ${JSON.stringify(event)})`;

/** The NOTIFY for a mailing event, to run inside the transaction that made the change. */
export function notifyMailing(mailingId: number, kind: MailingEventKind, status: string | null): SQL {
  return notify({ t: 'mailing', m: mailingId, k: kind, s: status });
}

/** The NOTIFY for a change of the client directory, to run inside the transaction that made it. */
export function notifyClients(): SQL {
  return notify({ t: 'clients' });
}

/** The NOTIFY announcing that provider_states changed, to run with (or after) the write. */
export function notifyProviders(): SQL {
  return notify({ t: 'providers' });
}

/** The NOTIFY for a kept reply, to run inside the transaction that inserted it. */
export function notifyInbound(id: number): SQL {
  return notify({ t: 'inbound', id });
}

/**
 * The NOTIFYs announcing that these messages of a mailing changed, a few hundred ids an
 * event, as one statement to run inside the transaction that changed them.
 */
export function notifyMessages(changed: ReadonlyMap<number, readonly number[]>): SQL | null {
  const payloads: string[] = [];
  for (const [mailingId, ids] of changed) {
    for (let i = 0; i < ids.length; i += MESSAGE_IDS_PER_EVENT) {
      const event: HeraldEvent = { t: 'messages', m: mailingId, ids: ids.slice(i, i + MESSAGE_IDS_PER_EVENT) };
      payloads.push(JSON.stringify(event));
    }
  }
  if (payloads.length === 0) return null;
  return sql`select pg_notify(${EVENT_CHANNEL}, p) from jsonb_array_elements_text(${JSON.stringify(payloads)}::jsonb) as p`;
}

export function parseEvent(payload: string): HeraldEvent | undefined {
  try {
    const e = JSON.parse(payload) as HeraldEvent;
    if (e?.t === 'clients' || e?.t === 'providers') return e;
    if (e?.t === 'inbound') return typeof e.id === 'number' ? e : undefined;
    return e && (e.t === 'mailing' || e.t === 'messages') && typeof e.m === 'number' ? e : undefined;
  } catch {
    return undefined;
  }
}
