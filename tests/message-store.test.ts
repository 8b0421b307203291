import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../src/db/connection';
import { requeueFailed, settleUnsent, writeResults, type ResultRow } from '../src/messages/message.store';
import { MESSAGE_STATUSES, type MessageStatus } from '../src/messages/message.table';
import { fromOf, mayBecome, MESSAGE_TRANSITIONS } from '../src/messages/message.transitions';
import { createMailing, inMs, insertClients } from './support/fixtures';
import { startTestHerald, type TestHerald } from './support/herald';

/**
 * message.store.ts, every write of a message, against a real PostgreSQL. The SQL that writes
 * statuses in bulk is generated from the transitions table (src/messages/message.transitions.ts):
 * every pair of a row's status and a result's, and every event of a mailing, must do what the
 * table says, so that the two cannot drift apart.
 *
 * And the result write as the dispatcher makes it: what a lost commit leaves behind must not
 * make a batch unwritable. Seen in tests/db-outage.test.ts (a partition): a claim's commit was
 * lost after its requests went out, the next claim handed the same clients out again under new
 * message ids, both answers landed in one flush, and the batch broke the (mailing, client) key
 * on every retry until the mailing expired.
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

/** A mailing an hour ahead (the dispatcher leaves it alone) with one message row in each given status. */
async function messagesIn(statuses: readonly MessageStatus[]) {
  const tag = `t${Math.random().toString(36).slice(2, 10)}`;
  const clientIds = await insertClients(herald, statuses.length, { tags: [tag] });
  const mailing = await createMailing(herald, { filter: { tags: [tag] }, startAt: inMs(3_600_000), endAt: inMs(7_200_000) });
  const mailingId = Number(mailing.id);
  const rows = await herald.sql<{ id: number; client_id: number; phone: string; timezone: string }[]>`
    insert into messages (mailing_id, client_id, phone, timezone, status)
    select ${mailingId}, c.id, c.phone, c.timezone, s.status::message_status
    from unnest(${clientIds}::bigint[], ${statuses as string[]}::text[]) as s(client_id, status) join clients c on c.id = s.client_id
    returning id::int, client_id::int, phone, timezone`;
  const byClient = new Map(rows.map((r) => [r.client_id, r]));
  return { mailingId, messages: clientIds.map((id, i) => ({ ...byClient.get(id)!, status: statuses[i] })) };
}

const statusesOf = async (mailingId: number) =>
  new Map((await herald.sql<{ id: number; status: MessageStatus }[]>`select id::int, status from messages where mailing_id = ${mailingId}`).map((r) => [r.id, r.status]));

describe('the message transitions in SQL', () => {
  // Both ways writeResults goes: through messages, and (a batch within one partition, as the
  // dispatcher writes it) in the partition by name, whose own statement triggers must count
  // each change exactly once.
  it.each([
    ['through messages', false],
    ['in its partition, by name', true],
  ])('should write a result over exactly the statuses the table lets it change (%s), counted once', async (_way, byName) => {
    const pairs = MESSAGE_STATUSES.flatMap((from) => MESSAGE_STATUSES.map((to) => ({ from, to })));
    const { mailingId, messages } = await messagesIn(pairs.map((p) => p.from));
    const results: ResultRow[] = messages.map((m, i) => ({
      id: m.id, mailingId, clientId: m.client_id, phone: m.phone, timezone: m.timezone,
      status: pairs[i].to, attempted: true, error: null, text: 'Hello', nextAttemptAt: null, at: Date.now(), provider: null, providerMessageId: null,
      hadRow: true,
    }));
    const [{ partition }] = await herald.sql<{ partition: string }[]>`select tableoid::regclass::text as partition from messages where mailing_id = ${mailingId} limit 1`;
    expect(partition).toMatch(/^messages_p\d+$/);
    const changed = await database.db.transaction((tx) => writeResults(tx, results, byName ? partition : undefined));
    const changedIds = new Set(changed.get(mailingId) ?? []);
    const after = await statusesOf(mailingId);
    let allowed = 0;
    for (const [i, { from, to }] of pairs.entries()) {
      const may = mayBecome(from, to);
      if (may) allowed++;
      expect(changedIds.has(messages[i].id), `${from} → ${to} reported`).toBe(may);
      expect(after.get(messages[i].id), `${from} → ${to} written`).toBe(may ? to : from);
    }
    // The table lets a result change PENDING (into any status) and SENT overwrite two final ones.
    expect(allowed).toBe(MESSAGE_STATUSES.length + 2);
    // The mailing's counters (statement triggers) agree with its rows: nothing missed, nothing twice.
    const [counted] = await herald.sql`select ${herald.sql(MESSAGE_STATUSES.map((s) => s.toLowerCase()))} from mailing_stats where mailing_id = ${mailingId}`;
    const rows = await herald.sql<{ status: string; n: number }[]>`select status::text, count(*)::int as n from messages where mailing_id = ${mailingId} group by status`;
    const actual = Object.fromEntries(MESSAGE_STATUSES.map((s) => [s.toLowerCase(), rows.find((r) => r.status === s)?.n ?? 0]));
    expect(Object.fromEntries(Object.entries(counted).map(([k, v]) => [k, Number(v)]))).toEqual(actual);
  });

  it('should expire, cancel and requeue exactly the statuses the table names', async () => {
    for (const event of ['expire', 'cancel', 'requeue'] as const) {
      const { mailingId, messages } = await messagesIn(MESSAGE_STATUSES);
      const count = await database.db.transaction((tx) => (event === 'requeue' ? requeueFailed(tx, mailingId) : settleUnsent(tx, mailingId, event, 'why')));
      const after = await statusesOf(mailingId);
      const { to } = MESSAGE_TRANSITIONS[event];
      for (const m of messages) expect(after.get(m.id), `${event} of ${m.status}`).toBe(fromOf(event).includes(m.status) ? to : m.status);
      expect(count).toBe(fromOf(event).length);
    }
  });
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
    const result = (id: number, forClient = clientId, status: MessageStatus = 'SENT'): ResultRow => ({
      id, mailingId: Number(mailing.id), clientId: forClient, phone: client.phone, timezone: client.timezone,
      status, attempted: true, error: null, text: 'Hello', nextAttemptAt: null, at: Date.now(), provider: null, providerMessageId: null,
      hadRow: false,
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

  it('should update a first result whose row is there already (its lease taken over, or its commit unanswered) as the transitions allow', async () => {
    const tag = `w${Math.random().toString(36).slice(2, 10)}`;
    const [clientId] = await insertClients(herald, 1, { tags: [tag] });
    const mailing = await createMailing(herald, { filter: { tags: [tag] }, startAt: inMs(3_600_000), endAt: inMs(7_200_000) });
    const [client] = await herald.sql<{ phone: string; timezone: string }[]>`select phone, timezone from clients where id = ${clientId}`;
    const [{ id }] = await herald.sql<{ id: number }[]>`select nextval('messages_id_seq')::int as id`;
    const first = (status: MessageStatus, error: string | null): ResultRow => ({
      id, mailingId: Number(mailing.id), clientId, phone: client.phone, timezone: client.timezone,
      status, attempted: true, error, text: 'Hello "quoted", {braced} \\ backslashed', nextAttemptAt: null, at: Date.now(), provider: 'default', providerMessageId: null,
      hadRow: false,
    });
    const row = async () => (await herald.sql<{ status: string; attempts: number; last_error: string | null; text: string }[]>`
      select status, attempts, last_error, text from messages where mailing_id = ${mailing.id}`);
    // Written by the process whose lease was taken over: waiting for a retry.
    let changed = await database.db.transaction((tx) => writeResults(tx, [first('PENDING', 'HTTP 503')]));
    expect(changed.get(Number(mailing.id))).toEqual([id]);
    // The taker's first result of the same message: the row is there, so it is updated.
    changed = await database.db.transaction((tx) => writeResults(tx, [first('SENT', null)]));
    expect(changed.get(Number(mailing.id))).toEqual([id]);
    expect(await row()).toEqual([{ status: 'SENT', attempts: 2, last_error: 'HTTP 503', text: 'Hello "quoted", {braced} \\ backslashed' }]);
    // And a late FAILED does not undo the SENT.
    changed = await database.db.transaction((tx) => writeResults(tx, [first('FAILED', 'HTTP 400')]));
    expect(changed.get(Number(mailing.id))).toBeUndefined();
    expect((await row())[0].status).toBe('SENT');
  });
});

describe('receipts beside older partitions', () => {
  it('should apply a batch whose messages are in the newest started mailing\'s partition and in an older one, counting each once', async () => {
    const { ReceiptService } = await import('../src/receipts/receipt.service');
    const { createPartitions, listPartitions } = await import('../src/partitions/partition.store');
    const { createLogger } = await import('../src/logger');
    const older = await messagesIn(['SENT', 'SENT']);
    // The next mailing in a partition of its own, after every one there is (as a later day's).
    const top = Math.max(...(await listPartitions(database.db)).map((p) => p.to));
    await createPartitions(database.db, [{ from: top, to: top + 1_000_000 }]);
    await herald.sql`select setval('mailings_id_seq', ${top}, false)`;
    const newer = await messagesIn(['SENT', 'SENT']);
    expect(newer.mailingId).toBe(top);
    const [{ inNewer }] = await herald.sql<{ inNewer: number }[]>`select count(*)::int as "inNewer" from ${herald.sql(`messages_p${top}`)} where mailing_id = ${newer.mailingId}`;
    expect(inNewer).toBe(2);
    for (const { mailingId, messages } of [older, newer]) {
      await herald.sql`update mailings set started_at = now() where id = ${mailingId}`;
      for (const m of messages) await herald.sql`update messages set provider = 'default', provider_message_id = ${`pm-${m.id}`}, sent_at = now() where id = ${m.id}`;
    }
    const service = new ReceiptService(database.db, createLogger('silent'), { kinds: new Map([['default', 'smpp']]), parkMs: 60_000 });
    const all = [...older.messages, ...newer.messages];
    const results = await service.receipts('default', [
      ...all.map((m, i) => ({ providerMessageId: `pm-${m.id}`, status: i % 2 === 0 ? ('DELIVERED' as const) : ('UNDELIVERED' as const), error: i % 2 === 0 ? null : 'UNDELIV err:034', at: null })),
      { providerMessageId: `pm-${older.messages[0].id}`, status: 'DELIVERED' as const, error: null, at: null },
    ]);
    expect(results).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);
    for (const { mailingId, messages } of [older, newer]) {
      const statuses = await statusesOf(mailingId);
      expect(messages.map((m) => statuses.get(m.id))).toEqual(['DELIVERED', 'UNDELIVERED']);
      const [stats] = await herald.sql<{ sent: number; delivered: number; undelivered: number }[]>`
        select sent::int, delivered::int, undelivered::int from mailing_stats where mailing_id = ${mailingId}`;
      expect(stats).toEqual({ sent: 0, delivered: 1, undelivered: 1 });
    }
  });
});
