import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../src/db/connection';
import { writeResults, type ResultRow } from '../src/messages/message.store';
import { createMailing, inMs, insertClients } from './support/fixtures';
import { startTestHerald, type TestHerald } from './support/herald';

/**
 * The result write as the dispatcher makes it, against a real PostgreSQL: what a lost commit
 * leaves behind must not make a batch unwritable. Seen in tests/db-outage.test.ts (a
 * partition): a claim's commit was lost after its requests went out, the next claim handed
 * the same clients out again under new message ids, both answers landed in one flush, and
 * the batch broke the (mailing, client) key on every retry until the mailing expired.
 */
let herald: TestHerald;
let database: Database;

beforeAll(async () => {
  herald = await startTestHerald();
  database = connectDatabase(herald.databaseUrl, { max: 1 });
});
afterAll(async () => {
  await database?.close();
  await herald?.stop();
});

describe('writing results', () => {
  it('should keep the first message of a client handed out twice, whether the other is in the same batch or already a row', async () => {
    const tag = `w${Math.random().toString(36).slice(2, 10)}`;
    const [clientId, otherId] = await insertClients(herald, 2, { tags: [tag] });
    // Scheduled an hour ahead: the dispatcher leaves it alone, only these writes touch it.
    const mailing = await createMailing(herald, { filter: { tags: [tag] }, startAt: inMs(3_600_000), endAt: inMs(7_200_000) });
    const [client] = await herald.sql<{ phone: string; timezone: string }[]>`select phone, timezone from clients where id = ${clientId}`;
    const [{ first, second, third }] = await herald.sql<{ first: number; second: number; third: number }[]>`
      select nextval('messages_id_seq')::int as first, nextval('messages_id_seq')::int as second, nextval('messages_id_seq')::int as third`;
    const result = (id: number, forClient = clientId): ResultRow => ({
      id, mailingId: Number(mailing.id), clientId: forClient, phone: client.phone, timezone: client.timezone,
      status: 'SENT', attempted: true, error: null, text: 'Hello', nextAttemptAt: null, at: Date.now(),
    });
    const rows = () => herald.sql<{ id: number; client_id: number }[]>`select id::int, client_id::int from messages where mailing_id = ${mailing.id} order by id`;

    // Both answers of one client in one batch, with another client's.
    await database.db.transaction((tx) => writeResults(tx, [result(second), result(first), result(third, otherId)]));
    expect(await rows()).toEqual([{ id: first, client_id: clientId }, { id: third, client_id: otherId }]);
    // The same batch again (its commit was lost: written, but not known to be): no change, no error.
    await database.db.transaction((tx) => writeResults(tx, [result(second), result(first), result(third, otherId)]));
    expect(await rows()).toEqual([{ id: first, client_id: clientId }, { id: third, client_id: otherId }]);
    const [stats] = await herald.sql<{ sent: number }[]>`select sent::int from mailing_stats where mailing_id = ${mailing.id}`;
    expect(stats.sent).toBe(2);
  });
});
