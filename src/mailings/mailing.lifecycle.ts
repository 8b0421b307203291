import { and, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { clientFilterCondition } from '../clients/client.filter';
import { clients } from '../clients/client.table';
import type { Db } from '../db/connection';
import { notifyMailing, type MailingEventKind } from '../events/event.channel';
import { ConflictError, NotFoundError } from '../graphql/errors';
import type { Logger } from '../logger';
import { holdUnsentMessages } from '../messages/message.store';
import { messages } from '../messages/message.table';
import { findMailingForUpdate } from './mailing.store';
import { mailings, type MailingRow, type MailingStatus } from './mailing.table';

/**
 * A mailing's life: SCHEDULED → RUNNING (at startAt) → COMPLETED (every message final, or
 * endAt reached), with PAUSED and CANCELLED by operators. Each transition is one
 * conditional UPDATE, so a transition happens once however many processes try it.
 */

// An audience this large changes the messages table enough to refresh its statistics.
const ANALYZE_AFTER = 10_000;

/** Where a mailing is due to start: turns it RUNNING and creates its audience, once. */
export async function startMailing(db: Db, log: Logger, id: number): Promise<{ audience: number; audienceMs: number } | null> {
  const started = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(mailings)
      .set({ status: 'RUNNING', startedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(mailings.id, id), eq(mailings.status, 'SCHEDULED'), lte(mailings.startAt, sql`now()`), gt(mailings.endAt, sql`now()`)))
      .returning();
    if (!row) return null;
    // The whole audience in one set-based statement: one PENDING message per matching
    // client, with the phone and time zone the client has now. Clients added later are not
    // part of this mailing. The status change above lets one start through, so there is no
    // conflict to skip (ON CONFLICT DO NOTHING cost a quarter of the time); the unique key
    // still stands guard.
    const audienceStarted = performance.now();
    const condition = clientFilterCondition({
      operatorCodes: row.filterOperatorCodes,
      tags: row.filterTags,
      tagMatch: row.filterTagMatch,
    });
    const inserted = await tx.execute(sql`
      insert into ${messages} (mailing_id, client_id, phone, timezone)
      select ${id}, ${clients.id}, ${clients.phone}, ${clients.timezone}
      from ${clients}
      ${condition ? sql`where ${condition}` : sql``}`);
    const audience = inserted.count ?? 0;
    const audienceMs = Math.round(performance.now() - audienceStarted);
    await tx.execute(notifyMailing(id, 'STARTED', 'RUNNING'));
    if (audience === 0) {
      await tx.update(mailings).set({ status: 'COMPLETED', finishedAt: sql`now()`, updatedAt: sql`now()` }).where(eq(mailings.id, id));
      await tx.execute(notifyMailing(id, 'COMPLETED', 'COMPLETED'));
    }
    return { audience, audienceMs };
  });
  if (started && started.audience >= ANALYZE_AFTER) {
    // Fresh statistics at once: planned with the old ones (a few pending messages), a claim
    // scans and sorts every pending message of the mailing instead of walking the due-index.
    await db.execute(sql`analyze ${messages}`);
  }
  if (started) {
    log.info({ mailingId: id, audience: started.audience, audienceMs: started.audienceMs }, 'mailing started');
    if (started.audience === 0) log.info({ mailingId: id }, 'mailing completed: no client matches its filter');
  }
  return started;
}

/**
 * Where a mailing's end has come: every message still PENDING becomes EXPIRED and the
 * mailing COMPLETED. Expiring the messages waits for the batches in flight (they hold their
 * messages' rows locked until their results are written), and no claim after it finds any.
 */
export async function endMailing(db: Db, log: Logger, id: number): Promise<{ expired: number } | null> {
  const ended = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(mailings)
      .set({ status: 'COMPLETED', finishedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(mailings.id, id), inArray(mailings.status, ['SCHEDULED', 'RUNNING', 'PAUSED']), lte(mailings.endAt, sql`now()`)))
      .returning({ id: mailings.id });
    if (!row) return null;
    await holdUnsentMessages(tx, id);
    const expired = await tx
      .update(messages)
      .set({ status: 'EXPIRED', updatedAt: sql`now()`, lastError: sql`coalesce(${messages.lastError}, 'the mailing ended before it could be sent')` })
      .where(and(eq(messages.mailingId, id), eq(messages.status, 'PENDING')));
    await tx.execute(notifyMailing(id, 'COMPLETED', 'COMPLETED'));
    return { expired: expired.count ?? 0 };
  });
  if (ended) log.info({ mailingId: id, expired: ended.expired }, 'mailing ended at its end time');
  return ended;
}

/** Operator transitions: pause, resume, cancel. Each returns the updated mailing. */
export async function pauseMailing(db: Db, log: Logger, id: number): Promise<MailingRow> {
  const row = await transition(db, id, ['RUNNING'], 'PAUSED', 'PAUSED', async (tx) => {
    // Parked out of the claim's reach, so a paused mailing costs its scans nothing.
    await holdUnsentMessages(tx, id);
    await tx
      .update(messages)
      .set({ nextAttemptAt: sql`'infinity'` })
      .where(and(eq(messages.mailingId, id), eq(messages.status, 'PENDING')));
  });
  log.info({ mailingId: id }, 'mailing paused');
  return row;
}

export async function resumeMailing(db: Db, log: Logger, id: number): Promise<MailingRow> {
  const row = await transition(db, id, ['PAUSED'], 'RUNNING', 'RESUMED', async (tx) => {
    await tx
      .update(messages)
      .set({ nextAttemptAt: sql`now()` })
      .where(and(eq(messages.mailingId, id), eq(messages.status, 'PENDING')));
  });
  log.info({ mailingId: id }, 'mailing resumed');
  return row;
}

/** Cancelled for good: the history stays, messages not yet sent become CANCELLED. */
export async function cancelMailing(db: Db, log: Logger, id: number): Promise<MailingRow> {
  let cancelled = 0;
  const row = await transition(db, id, ['SCHEDULED', 'RUNNING', 'PAUSED'], 'CANCELLED', 'CANCELLED', async (tx) => {
    await holdUnsentMessages(tx, id);
    const result = await tx
      .update(messages)
      .set({ status: 'CANCELLED', updatedAt: sql`now()` })
      .where(and(eq(messages.mailingId, id), eq(messages.status, 'PENDING')));
    cancelled = result.count ?? 0;
  });
  log.info({ mailingId: id, cancelledMessages: cancelled }, 'mailing cancelled');
  return row;
}

async function transition(
  db: Db,
  id: number,
  from: MailingStatus[],
  to: MailingStatus,
  event: MailingEventKind,
  alsoDo: (tx: Db) => Promise<void>,
): Promise<MailingRow> {
  return db.transaction(async (tx) => {
    const current = await findMailingForUpdate(tx, id);
    if (!current) throw new NotFoundError('mailing', id);
    if (!from.includes(current.status)) {
      throw new ConflictError(`mailing ${id} is ${current.status}; only a ${from.join(' or ')} mailing can become ${to}`);
    }
    const [row] = await tx
      .update(mailings)
      .set({ status: to, updatedAt: sql`now()`, ...(to === 'CANCELLED' ? { finishedAt: sql`now()` } : {}) })
      .where(eq(mailings.id, id))
      .returning();
    await alsoDo(tx);
    await tx.execute(notifyMailing(id, event, to));
    return row;
  });
}

/** Mailings whose start or end has passed without the timer acting (a process was down). */
export async function overdueMailings(db: Db): Promise<{ toStart: number[]; toEnd: number[] }> {
  // One clock decides both: the database's, as in the transitions themselves.
  const rows = await db
    .select({ id: mailings.id, ended: sql<boolean>`${mailings.endAt} <= now()` })
    .from(mailings)
    .where(
      sql`(${mailings.status} = 'SCHEDULED' and ${mailings.startAt} <= now())
          or (${mailings.status} in ('SCHEDULED', 'RUNNING', 'PAUSED') and ${mailings.endAt} <= now())`,
    );
  return { toEnd: rows.filter((r) => r.ended).map((r) => r.id), toStart: rows.filter((r) => !r.ended).map((r) => r.id) };
}
