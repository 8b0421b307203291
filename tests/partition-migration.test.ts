import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../src/db/migrate';
import { createTestDatabase, startTestHerald, type TestHerald } from './support/herald';
import { waitFor } from './support/wait';

const DRIZZLE = fileURLToPath(new URL('../drizzle', import.meta.url));
// The test's size; HERALD_MIGRATION_ROWS=1000000 measures the migration of docs/retention.md.
const ROWS = Number(process.env.HERALD_MIGRATION_ROWS ?? 20_000);
const MAILINGS = 40;

/** drizzle/ as it was before the partitions: the migrations up to 0013. */
async function migrationsBeforePartitions(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'herald-drizzle-0013-'));
  await cp(DRIZZLE, dir, { recursive: true });
  const journalFile = path.join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalFile, 'utf8')) as { entries: { tag: string }[] };
  const upTo = journal.entries.findIndex((e) => e.tag === '0014_message_partitions');
  expect(upTo).toBeGreaterThan(0);
  for (const e of journal.entries.slice(upTo)) await rm(path.join(dir, `${e.tag}.sql`));
  journal.entries = journal.entries.slice(0, upTo);
  await writeFile(journalFile, JSON.stringify(journal));
  return dir;
}

describe('the migration of an existing messages table into partitions (drizzle/0014)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: postgres.Sql;
  let before: { count: number; byStatus: Record<string, number>; maxId: number; stats: unknown; sample: unknown };
  let migrationMs = 0;
  let herald: TestHerald | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    const old = await migrationsBeforePartitions();
    try {
      await migrateDatabase(database.url, { migrationsFolder: old });
    } finally {
      await rm(old, { recursive: true, force: true });
    }
    sql = postgres(database.url, { max: 2, onnotice: () => {} });
    // Today's table with data: mailings, their messages (as the statement triggers count them), clients.
    await sql`insert into clients (phone, operator_code, timezone) select '7' || lpad(g::text, 10, '0'), '900', 'UTC' from generate_series(1, ${ROWS / MAILINGS}) g`;
    await sql`insert into mailings (text, start_at, end_at, status, started_at, finished_at)
              select 'm' || g, now() - interval '2 days', now() - interval '1 day', 'COMPLETED', now() - interval '2 days', now() - interval '1 day'
              from generate_series(1, ${MAILINGS}) g`;
    await sql`insert into messages (mailing_id, client_id, phone, timezone, status, attempts, sent_at, text, provider, provider_message_id)
              select m.id, c.id, c.phone, c.timezone, case when c.id % 10 = 0 then 'FAILED' else 'SENT' end::message_status, 1, now() - interval '1 day', 'hi', 'default', m.id || '-' || c.id
              from mailings m cross join clients c`;
    const [{ count, max_id }] = await sql<{ count: string; max_id: string }[]>`select count(*) as count, max(id) as max_id from messages`;
    const byStatus = Object.fromEntries((await sql<{ status: string; n: string }[]>`select status::text, count(*) as n from messages group by 1`).map((r) => [r.status, Number(r.n)]));
    before = {
      count: Number(count),
      byStatus,
      maxId: Number(max_id),
      stats: await sql`select * from mailing_stats order by mailing_id`,
      sample: await sql`select * from messages where id % 997 = 0 order by id`,
    };
    const started = performance.now();
    await migrateDatabase(database.url);
    migrationMs = performance.now() - started;
    console.log(`partition migration: ${before.count.toLocaleString('en')} messages in ${Math.round(migrationMs)} ms`);
  }, 600_000);

  afterAll(async () => {
    await herald?.stop();
    await sql?.end();
    await database?.drop();
  });

  it('should keep every row as it was, in one partition holding the mailing ids so far', async () => {
    const parts = await sql<{ name: string; bound: string }[]>`
      select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
      from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'messages'::regclass`;
    expect(parts).toEqual([{ name: 'messages_p1', bound: `FOR VALUES FROM ('1') TO ('${MAILINGS + 1}')` }]);
    const [{ count }] = await sql<{ count: string }[]>`select count(*) as count from messages`;
    expect(Number(count)).toBe(before.count);
    const byStatus = Object.fromEntries((await sql<{ status: string; n: string }[]>`select status::text, count(*) as n from messages group by 1`).map((r) => [r.status, Number(r.n)]));
    expect(byStatus).toEqual(before.byStatus);
    expect(await sql`select * from messages where id % 997 = 0 order by id`).toEqual(before.sample);
    expect(await sql`select * from mailing_stats order by mailing_id`).toEqual(before.stats);
  });

  it('should keep one message per client per mailing, and go on with the message ids', async () => {
    const [dup] = await sql`select mailing_id, client_id from messages limit 1`;
    await expect(sql`insert into messages (mailing_id, client_id, phone) values (${dup.mailing_id}, ${dup.client_id}, '70000000000')`).rejects.toMatchObject({ code: '23505' });
    const [{ id }] = await sql<{ id: string }[]>`select nextval('messages_id_seq') as id`;
    expect(Number(id)).toBeGreaterThan(before.maxId);
  });

  it('should dispatch a new mailing after it, into a partition of its own, counted as before', async () => {
    herald = await startTestHerald({ databaseUrl: database.url });
    const { createMailing } = await herald.ok<{ createMailing: { id: string } }>(
      `mutation($input: CreateMailingInput!) { createMailing(input: $input) { id } }`,
      { input: { text: 'after the migration', startAt: new Date().toISOString(), endAt: new Date(Date.now() + 3_600_000).toISOString(), filter: { operatorCodes: ['900'] } } },
    );
    await waitFor(async () => (await herald!.ok(`{ mailing(id: "${createMailing.id}") { status } }`)).mailing.status === 'COMPLETED', 60_000 + ROWS / 10, "the mailing to complete");
    const { mailing } = await herald.ok(`{ mailing(id: "${createMailing.id}") { stats { total sent } } }`);
    expect(mailing.stats).toEqual({ total: ROWS / MAILINGS, sent: ROWS / MAILINGS });
    const homes = await sql<{ home: string; n: string }[]>`select tableoid::regclass::text as home, count(*) as n from messages where mailing_id = ${createMailing.id} group by 1`;
    expect(homes).toEqual([{ home: `messages_p${MAILINGS + 1}`, n: String(ROWS / MAILINGS) }]);
    // The old mailings' figures are as they were.
    const { mailing: old } = await herald.ok(`{ mailing(id: "1") { stats { total sent failed } } }`);
    expect(old.stats).toEqual({ total: ROWS / MAILINGS, sent: before.byStatus.SENT / MAILINGS, failed: before.byStatus.FAILED / MAILINGS });
  }, 120_000 + ROWS / 10);
});
