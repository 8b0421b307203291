import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { ADMIN_TOKEN, startTestHerald, type TestHerald } from './support/herald';
import { waitFor } from './support/wait';

// Real time shortened by configuration: a partition takes new mailings for 15 s, messages are
// kept 3 s after their mailings end, and the schedule runs every minute (pg-boss's cron
// grain), in two worker processes.
const METRICS_TOKEN = 'metrics-token-for-tests-0123456';
const PERIOD_MS = 15_000;
const RANGE = 100;
const STATS = `stats { total sent pending failed cancelled expired skipped delivered byStatus { status count } }`;

type Partition = { name: string; from: number; to: number };

describe('messages in partitions by mailing id: made ahead, turned per period, dropped by the retention with a checked archive', () => {
  let archiveDir: string;
  let a: TestHerald;
  let b: TestHerald;

  const partitions = async (): Promise<Partition[]> => {
    const rows = await a.sql<{ name: string; bound: string }[]>`
      select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
      from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'messages'::regclass`;
    return rows
      .map((r) => {
        const [, from, to] = /FROM \('(\d+)'\) TO \('(\d+)'\)/.exec(r.bound)!;
        return { name: r.name, from: Number(from), to: Number(to) };
      })
      .sort((x, y) => x.from - y.from);
  };
  const nextMailingId = async () => Number((await a.sql`select case when is_called then last_value + 1 else last_value end as n from mailings_id_seq`)[0].n);
  const dropLines = () => [...a.logs, ...b.logs].filter((l) => l.msg === 'messages partition dropped (retention)');
  const lastRunDone = async (after: Date) => {
    const [job] = await a.sql`select state from pgboss.job where name = 'message-partitions' and created_on > ${after} order by created_on desc limit 1`;
    return job?.state === 'completed';
  };
  const createMailing = async (text: string, extra: Record<string, unknown> = {}) =>
    (
      await a.ok<{ createMailing: { id: string } }>(`mutation($input: CreateMailingInput!) { createMailing(input: $input) { id } }`, {
        input: { text, startAt: new Date().toISOString(), endAt: new Date(Date.now() + 3_600_000).toISOString(), filter: { operatorCodes: ['900'] }, ...extra },
      })
    ).createMailing.id;
  const rowsOf = async (id: string) => Number((await a.sql`select count(*) as n from messages where mailing_id = ${id}`)[0].n);
  /** Waiting in its send window (closed now in UTC and in UTC+14): a running mailing with rows (30, PENDING). */
  const createWaitingMailing = async (text: string) => {
    const opensAt = new Date(Date.now() + 6 * 3_600_000);
    const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    const id = await createMailing(text, {
      sendWindow: { from: hhmm(opensAt), to: hhmm(new Date(opensAt.getTime() + 60_000)) },
      // Past the window's opening: a mailing that could send nothing before its end would complete at once.
      endAt: new Date(opensAt.getTime() + 3_600_000).toISOString(),
    });
    await waitFor(async () => (await rowsOf(id)) === 30, 30_000, 'its waits written');
    return id;
  };
  const statusOf = async (id: string) => (await a.ok(`{ mailing(id: "${id}") { status } }`)).mailing.status;
  const exportOf = async (id: string) => (await fetch(`${a.url}/mailings/${id}/messages.csv`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
  const metric = async (h: TestHerald, name: string) => {
    const text = await (await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : 0;
  };

  beforeAll(async () => {
    archiveDir = await mkdtemp(path.join(tmpdir(), 'herald-archive-'));
    const settings = {
      partitions: { periodMs: PERIOD_MS, mailings: RANGE, retentionMs: 3_000, archiveDir, cron: '* * * * *' },
      metrics: { ...loadConfig({}).metrics, token: METRICS_TOKEN, cacheMs: 0 },
    };
    a = await startTestHerald(settings);
    b = await startTestHerald({ ...settings, databaseUrl: a.databaseUrl, role: 'worker' });
    // Clients in UTC and in the zone furthest from it (UTC+14): their local dates differ, their partition does not.
    await a.sql`insert into clients (phone, operator_code, timezone)
                select '7900' || lpad(g::text, 7, '0'), '900', case when g % 2 = 0 then 'UTC' else 'Pacific/Kiritimati' end from generate_series(1, 30) g`;
  }, 60_000);

  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await rm(archiveDir, { recursive: true, force: true });
  });

  it('should have the partition of the next mailing and one more range after it before any mailing', async () => {
    const next = await nextMailingId();
    const parts = await partitions();
    const open = parts.findIndex((p) => p.from <= next && next < p.to);
    expect(open).toBeGreaterThanOrEqual(0);
    expect(parts[open + 1]).toEqual({ name: `messages_p${parts[open].to}`, from: parts[open].to, to: parts[open].to + RANGE });
    expect(parts[open].to - parts[open].from).toBe(RANGE);
  });

  let done: string;
  let running: string;
  let later: string;
  let first: Partition;
  let before: Record<string, { stats: unknown; csv: string }> = {};

  it('should write every message of a mailing into the partition of its mailing id, whatever its clients\' zones', async () => {
    done = await createMailing('kept for 3 s after it ends');
    await waitFor(async () => (await statusOf(done)) === 'COMPLETED', 30_000, 'the mailing to complete');
    running = await createWaitingMailing('waits for its window');
    first = (await partitions()).find((p) => p.from <= Number(done) && Number(done) < p.to)!;
    const homes = await a.sql`select tableoid::regclass::text as home, timezone, count(*)::int as n from messages where mailing_id in (${done}, ${running}) group by 1, 2 order by 2`;
    expect(homes).toEqual([
      { home: first.name, timezone: 'Pacific/Kiritimati', n: 30 },
      { home: first.name, timezone: 'UTC', n: 30 },
    ]);
  }, 60_000);

  it('should turn to the next partition once the period is over, and keep one whose mailing still runs', async () => {
    const since = new Date();
    await waitFor(async () => (await nextMailingId()) >= first.to, 2 * 60_000 + PERIOD_MS, 'the next mailings to go to the next partition');
    await waitFor(() => lastRunDone(since), 30_000, 'that run to finish');
    expect((await partitions()).map((p) => p.name)).toContain(first.name);
    expect(dropLines()).toEqual([]);
    expect(await statusOf(running)).toBe('RUNNING');
    // Running on: its partition (closed too by the time the first goes) stays.
    later = await createWaitingMailing('in the next partition');
    expect(Number(later)).toBe(first.to);
  }, 4 * 60_000);

  it('should archive and drop the partition once its mailings ended, once for two workers, and keep their figures', async () => {
    await a.ok(`mutation { cancelMailing(id: "${running}") { status } }`);
    for (const id of [done, running, later]) {
      before[id] = { stats: (await a.ok(`{ mailing(id: "${id}") { ${STATS} messagesRetained } }`)).mailing, csv: await exportOf(id) };
    }
    const statistics = `{ statistics { mailingCount messages { total sent cancelled } } }`;
    const overall = await a.ok(statistics);
    await waitFor(() => dropLines().length > 0, 2 * 60_000, 'the partition to be dropped');
    // The one run that dropped it; the other worker's took no job or found nothing to do.
    const drops = dropLines();
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ partition: first.name, fromMailingId: first.from, toMailingId: first.to, rows: 60, mailings: 2, archive: archiveDir });
    expect((await partitions()).map((p) => p.name)).not.toContain(first.name);
    expect(await a.sql`select 1 from pg_class where relname = ${first.name}`).toEqual([]);
    const counted = async (name: string) => [await metric(a, name), await metric(b, name)];
    const dropsCounted = await counted('herald_message_partitions_dropped_total');
    const rowsCounted = await counted('herald_messages_pruned_total');
    expect(dropsCounted[0] + dropsCounted[1]).toBe(1);
    expect(rowsCounted[0] + rowsCounted[1]).toBe(60);

    // The archive holds exactly what the export gave before: the same bytes, mailing by mailing.
    const dir = path.join(archiveDir, `${first.name}-${first.from}-${first.to}`);
    expect((await readdir(dir)).sort()).toEqual([`mailing-${done}-messages.csv.gz`, `mailing-${running}-messages.csv.gz`, 'manifest.json'].sort());
    for (const id of [done, running]) {
      expect(gunzipSync(await readFile(path.join(dir, `mailing-${id}-messages.csv.gz`))).toString()).toBe(before[id].csv);
    }
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.mailings.map((m: { mailingId: number; rows: number }) => [m.mailingId, m.rows])).toEqual([
      [Number(done), 30],
      [Number(running), 30],
    ]);

    // Figures stay; the rows are gone, and say so; the later mailing keeps its own.
    for (const id of [done, running]) {
      const { mailing } = await a.ok(`{ mailing(id: "${id}") { ${STATS} messagesRetained messages(first: 50) { totalCount edges { node { id } } } } }`);
      expect({ stats: mailing.stats }).toEqual({ stats: (before[id].stats as { stats: unknown }).stats });
      expect(mailing.messagesRetained).toBe(false);
      expect(mailing.messages).toEqual({ totalCount: 0, edges: [] });
    }
    const { mailing: kept } = await a.ok(`{ mailing(id: "${later}") { messagesRetained messages(first: 50) { totalCount } } }`);
    expect(kept).toEqual({ messagesRetained: true, messages: { totalCount: 30 } });
    expect(await exportOf(later)).toBe(before[later].csv);
    expect(await a.ok(statistics)).toEqual(overall);
  }, 4 * 60_000);
});
