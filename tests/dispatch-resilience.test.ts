import postgres, { type Sql } from 'postgres';
import { describe, expect, it } from 'vitest';
import type { GatewayBehaviour, GatewaySimulator } from '../src/gateway/simulator';
import { createMailing, CREATE_MAILING, inMs, insertClients, MAILING_STATE, mailingState, phonesOf, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { createTestDatabase, startTestHerald } from './support/herald';
import { clientOf, logLines, spawnReady as spawnReadyHerald, terminate, type RunningHerald } from './support/process';
import { sleep, waitFor } from './support/wait';

/**
 * What happens to a mailing when things go wrong around the dispatcher: a process killed
 * mid-mailing or hung, several processes on one database, a gateway that never answers,
 * messages held by another process. Asserted from the outside: GraphQL answers, what the
 * gateway simulator received, and the rows in Postgres.
 */

// ---------------------------------------------------------------------------------------
// Herald as a real process (`npm start`), on a database of the test's own

type Running = RunningHerald;

/** How often the spawned processes commit results (DISPATCH_FLUSH_MS), and slack for the rest. */
const FLUSH_MS = 50;
const SLACK_MS = 250;

/** Herald as `npm start` runs it, with short dispatch timings. */
const spawnReady = (env: Record<string, string>) =>
  spawnReadyHerald({
    SENDER_CONCURRENCY: '8',
    SENDER_TIMEOUT_MS: '1000',
    LEASE_MS: '3000',
    RETRY_BASE_MS: '100',
    RETRY_MAX_MS: '1000',
    DISPATCH_POLL_MS: '20',
    DISPATCH_FLUSH_MS: String(FLUSH_MS),
    TIMER_POLL_MS: '500',
    SWEEP_MS: '1000',
    LOG_LEVEL: 'warn',
    ...env,
  });

/**
 * What the tests with Herald processes share: a database and a gateway simulator of their
 * own, a connection to look at the rows, the env pointing Herald at both; `end` stops the
 * given processes and tears the rest down.
 */
async function processTestbed(behaviour: Partial<GatewayBehaviour>) {
  const database = await createTestDatabase();
  const gw = await startTestGateway(behaviour);
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  const env = { DATABASE_URL: database.url, SENDER_URL: gw.config.senderUrl, SENDER_TOKEN: gw.config.senderToken };
  return {
    gw,
    sql,
    env,
    async end(...processes: (Running | undefined)[]) {
      await Promise.all(processes.map((p) => terminate(p)));
      await sql.end();
      await gw.simulator.stop();
      await database.drop();
    },
  };
}

async function createMailingAt(url: string, text: string): Promise<string> {
  return (await createMailing(clientOf(url), { text, startAt: inMs(-1_000), endAt: inMs(120_000) })).id;
}

const mailingStateAt = (url: string, id: string) => mailingState(clientOf(url), id) as Promise<{ status: string; stats: Record<string, number> }>;
const untilCompleted = (url: string, id: string, timeoutMs: number) => untilMailingStatus(clientOf(url), id, 'COMPLETED', timeoutMs);

/** msgIds the gateway received more than once. */
function receivedTwice(simulator: GatewaySimulator, ids?: Set<number>): number[] {
  const seen = new Map<number, number>();
  for (const r of simulator.received) if (!ids || ids.has(r.msgId)) seen.set(r.msgId, (seen.get(r.msgId) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
}

async function messageRows(sql: Sql, mailingId: string) {
  const rows = await sql<{ id: string; client_id: string; status: string }[]>`
    select id, client_id, status from messages where mailing_id = ${mailingId} order by id`;
  return rows.map((r) => ({ id: Number(r.id), clientId: Number(r.client_id), status: r.status }));
}

describe('a Herald process killed mid-mailing', () => {
  it.each([
    ['quick answers', { latencyMs: [30, 80] as [number, number] }, 30, 80],
    // A quarter of the answers take 0.8 s (within the 1 s timeout): at the kill, slow requests
    // are in flight beside quick ones.
    ['slow answers in flight', { latencyMs: [30, 80] as [number, number], tailRate: 0.25, tailMs: 800 }, 30, 800],
  ])('should finish the mailing after kill -9 and a restart (%s), losing nothing and re-sending only what was in flight', async (_what, behaviour, MIN_LATENCY_MS, MAX_LATENCY_MS) => {
    const testbed = await processTestbed(behaviour);
    const { gw, sql, env } = testbed;
    const CONCURRENCY = 8;
    const AUDIENCE = 400;
    let first: Running | undefined;
    let second: Running | undefined;
    try {
      first = await spawnReady({ ...env, SENDER_CONCURRENCY: String(CONCURRENCY) });
      const clientIds = await insertClients({ sql }, AUDIENCE);
      const mailingId = await createMailingAt(first.url, 'Crash test');

      // Some, not all, sent: then the process dies with requests in flight and no chance to
      // write results.
      await waitFor(
        async () => (await sql`select count(*)::int as n from messages where mailing_id = ${mailingId} and status = 'SENT'`)[0].n >= 100,
        20_000,
        'a hundred messages SENT',
      );
      first.proc.child.kill('SIGKILL');
      const killedAt = Date.now();
      expect(await first.proc.exited).toBe(null);
      const [atKill] = await sql<{ sent: number; final: number[] }[]>`
        select count(*) filter (where status = 'SENT')::int as sent,
               coalesce(array_agg(id) filter (where status <> 'PENDING'), '{}')::bigint[] as final
        from messages where mailing_id = ${mailingId}`;
      expect(atKill.sent).toBeGreaterThanOrEqual(100);
      expect(atKill.sent).toBeLessThan(AUDIENCE);
      const receivedBeforeRestart = gw.simulator.received.length;

      second = await spawnReady({ ...env, SENDER_CONCURRENCY: String(CONCURRENCY) });
      const done = await untilCompleted(second.url, mailingId, 30_000);

      // Every message SENT, and the gateway accepted every one of them: nothing lost.
      expect(done.stats).toMatchObject({ total: AUDIENCE, sent: AUDIENCE, pending: 0, failed: 0, expired: 0 });
      const rows = await messageRows(sql, mailingId);
      expect(rows.every((r) => r.status === 'SENT')).toBe(true);
      const ids = new Set(rows.map((r) => r.id));
      expect([...ids].filter((id) => !gw.simulator.accepted.has(id))).toEqual([]);
      expect(gw.simulator.received.length).toBeGreaterThan(receivedBeforeRestart); // the second process did send

      // The mailing started once: one message per client of the audience, no more.
      expect(rows).toHaveLength(AUDIENCE);
      expect(new Set(rows.map((r) => r.clientId)).size).toBe(AUDIENCE);
      expect(rows.map((r) => r.clientId).sort((a, b) => a - b)).toEqual(clientIds);

      // Sent twice at most: what the dead process had in flight or had answered in its last
      // commit interval (nothing with a result committed went out again), each under the same
      // id, so the gateway could tell the repeat.
      const twice = receivedTwice(gw.simulator, ids);
      const finalAtKill = new Set(atKill.final.map(Number));
      expect(twice.filter((id) => finalAtKill.has(id))).toEqual([]);
      for (const id of twice) {
        const first = gw.simulator.received.find((r) => r.msgId === id)!;
        expect(killedAt - first.at, `message ${id} first went out ${killedAt - first.at} ms before the kill`).toBeLessThan(FLUSH_MS + MAX_LATENCY_MS + SLACK_MS);
      }
      expect(twice.length).toBeLessThanOrEqual(CONCURRENCY * (1 + Math.ceil(FLUSH_MS / MIN_LATENCY_MS)));
    } finally {
      first?.proc.child.kill('SIGKILL');
      await testbed.end(first, second);
    }
  }, 60_000);
});

describe('a Herald process that hangs mid-mailing', () => {
  it('should lose its messages to another process after LEASE_MS, and change nothing when it wakes up', async () => {
    // Answers take a while, so that the first process is caught with requests out.
    const LATENCY_MS = 300;
    const LEASE_MS = 2_000;
    const testbed = await processTestbed({ latencyMs: LATENCY_MS });
    const { gw, sql } = testbed;
    const CONCURRENCY = 4;
    const env = {
      ...testbed.env,
      SENDER_CONCURRENCY: String(CONCURRENCY),
      SENDER_TIMEOUT_MS: '1000',
      LEASE_MS: String(LEASE_MS),
      LOG_LEVEL: 'info',
    };
    const AUDIENCE = 40;
    let first: Running | undefined;
    let second: Running | undefined;
    try {
      first = await spawnReady(env);
      await insertClients({ sql }, AUDIENCE);
      const mailingId = await createMailingAt(first.url, 'Hang test');
      await waitFor(() => gw.simulator.received.length >= 8, 20_000, 'the first process to be sending');
      // Hung, not dead: its connections stay open, and so do its leases until they run out.
      first.proc.child.kill('SIGSTOP');
      const stoppedAt = Date.now();
      // What it wrote just before the stop (requests in socket buffers, a COMMIT on its way)
      // lands within moments; nothing after that comes from it.
      await sleep(200);
      const receivedAtStop = new Set(gw.simulator.received.map((r) => r.msgId));
      const [atStop] = await sql<{ final: number[] }[]>`
        select coalesce(array_agg(id) filter (where status <> 'PENDING'), '{}')::bigint[] as final
        from messages where mailing_id = ${mailingId}`;

      second = await spawnReady(env);
      const done = await untilCompleted(second.url, mailingId, 30_000);
      expect(done.stats).toMatchObject({ total: AUDIENCE, sent: AUDIENCE, pending: 0 });

      // What the hung process held (requested, its result not committed) went out again from
      // the other process, under the same ids, and only once its lease had run out.
      const ids = new Set((await messageRows(sql, mailingId)).map((r) => r.id));
      const twice = receivedTwice(gw.simulator, ids);
      expect(twice.length).toBeGreaterThan(0);
      expect(twice.length).toBeLessThanOrEqual(CONCURRENCY * 2);
      const finalAtStop = new Set(atStop.final.map(Number));
      for (const id of twice) {
        expect(receivedAtStop.has(id) && !finalAtStop.has(id)).toBe(true);
        const [before, again] = gw.simulator.received.filter((r) => r.msgId === id);
        expect(stoppedAt - before.at).toBeLessThan(FLUSH_MS + LATENCY_MS + SLACK_MS);
        expect(again.at - before.at).toBeGreaterThanOrEqual(LEASE_MS - SLACK_MS);
      }

      // Woken up, it gets the answers it was waiting for; writing them changes nothing.
      const before = await sql`select id, status, attempts, sent_at from messages where mailing_id = ${mailingId} order by id`;
      const outcomesOf = (p: Running) => [...logLines(p.proc, 'message sent'), ...logLines(p.proc, 'message not sent')].filter((l) => twice.includes(Number(l.messageId)));
      const heardBefore = outcomesOf(first).length;
      first.proc.child.kill('SIGCONT');
      await sleep(2_000);
      expect(await sql`select id, status, attempts, sent_at from messages where mailing_id = ${mailingId} order by id`).toEqual(before);
      expect((await mailingStateAt(second.url, mailingId)).stats).toMatchObject({ total: AUDIENCE, sent: AUDIENCE, pending: 0 });
      expect(receivedTwice(gw.simulator, ids)).toEqual(twice);
      // It did go on with them: it logged what became of the requests it had been waiting on
      // (answered, or timed out by then) and wrote that, which changed nothing above.
      expect(outcomesOf(first).length).toBeGreaterThan(heardBefore);
    } finally {
      first?.proc.child.kill('SIGCONT');
      await testbed.end(first, second);
    }
  }, 90_000);
});

describe('two Herald processes on one database', () => {
  it('should share the work of a mailing and send nothing twice', async () => {
    // Answers with a tail (5% take half a second), as a real gateway gives them.
    const testbed = await processTestbed({ latencyMs: [5, 20], tailRate: 0.05, tailMs: 500 });
    const { gw, sql } = testbed;
    // info: each process logs 'message sent' with the messageId for every message it sent.
    const env = { ...testbed.env, LOG_LEVEL: 'info', SENDER_CONCURRENCY: '4' };
    const AUDIENCE = 300;
    let a: Running | undefined;
    let b: Running | undefined;
    try {
      // One after the other: the first migrates the database, the second finds it migrated.
      a = await spawnReady(env);
      b = await spawnReady(env);
      await insertClients({ sql }, AUDIENCE);
      const mailingId = await createMailingAt(a.url, 'Shared work');
      const done = await untilCompleted(b.url, mailingId, 30_000);
      expect(done.stats).toMatchObject({ total: AUDIENCE, sent: AUDIENCE, pending: 0 });

      // The gateway (one simulator for both) received every message exactly once.
      const ids = (await messageRows(sql, mailingId)).map((r) => r.id);
      const received = gw.simulator.received.map((r) => r.msgId);
      expect(received.length).toBe(AUDIENCE);
      expect(received.sort((x, y) => x - y)).toEqual(ids);

      // Who sent what: each process logs one 'message sent' line per message it sent, and
      // stdout keeps each process's lines apart. Both took part, neither sent a message the
      // other sent, and together they account for every message.
      const sentBy = (p: Running) => logLines(p.proc, 'message sent').map((l) => Number(l.messageId));
      const byA = sentBy(a);
      const byB = sentBy(b);
      expect(byA.length).toBeGreaterThan(0);
      expect(byB.length).toBeGreaterThan(0);
      expect(byA.filter((id) => byB.includes(id))).toEqual([]);
      expect([...byA, ...byB].sort((x, y) => x - y)).toEqual(ids);
      // And the mailing was started by one of them only.
      const starts = [...logLines(a.proc, 'mailing started'), ...logLines(b.proc, 'mailing started')];
      expect(starts.map((l) => String(l.mailingId))).toEqual([mailingId]);
    } finally {
      await testbed.end(a, b);
    }
  }, 60_000);
});

// ---------------------------------------------------------------------------------------
// In-process Herald

describe('a gateway that never answers', () => {
  it('should leave GraphQL and /readyz answering promptly while every send hangs', async () => {
    const gw = await startTestGateway({ hang: true });
    const CONCURRENCY = 20;
    const herald = await startTestHerald({ ...gw.config, dispatch: { concurrency: CONCURRENCY, requestTimeoutMs: 5_000, leaseMs: 10_000 } });
    try {
      const AUDIENCE = 300;
      await insertClients(herald, AUDIENCE);
      const created = await herald.ok(CREATE_MAILING, { input: { text: 'Stuck', startAt: inMs(-1_000), endAt: inMs(60_000) } });
      const id = created.createMailing.id as string;
      await waitFor(() => gw.simulator.received.length >= CONCURRENCY, 10_000, 'the dispatcher to fill its slots with hanging requests');

      const queries: [string, string, Record<string, unknown>, (data: any) => void][] = [
        ['clients page', '{ clients(first: 100) { totalCount edges { node { id phone } } pageInfo { hasNextPage } } }', {}, (d) => {
          expect(d.clients.totalCount).toBe(AUDIENCE);
          expect(d.clients.edges).toHaveLength(100);
          expect(d.clients.pageInfo.hasNextPage).toBe(true);
        }],
        ['mailing stats', MAILING_STATE, { id }, (d) => {
          expect(d.mailing.status).toBe('RUNNING');
          expect(d.mailing.stats).toMatchObject({ total: AUDIENCE, pending: AUDIENCE, sent: 0 });
        }],
        ['statistics', '{ statistics { mailingCount messages { total pending sent } } }', {}, (d) => {
          expect(d.statistics).toEqual({ mailingCount: 1, messages: { total: AUDIENCE, pending: AUDIENCE, sent: 0 } });
        }],
      ];
      const timings: number[] = [];
      for (let i = 0; i < 21; i++) {
        const [what, query, variables, check] = queries[i % queries.length];
        const started = performance.now();
        const data = await herald.ok(query, variables);
        const ms = performance.now() - started;
        timings.push(ms);
        check(data);
        expect(ms, `${what} took ${Math.round(ms)} ms`).toBeLessThan(1_000);
        const readyStarted = performance.now();
        expect((await fetch(`${herald.url}/readyz`)).status).toBe(200);
        expect(performance.now() - readyStarted).toBeLessThan(1_000);
      }
      // All that while the gateway answered nothing: the requests were hanging throughout.
      expect(gw.simulator.accepted.size).toBe(0);
      expect(gw.simulator.received.length).toBeGreaterThanOrEqual(CONCURRENCY);

      gw.simulator.set({ hang: false });
      const done = await waitFor(async () => {
        const m = (await herald.ok(MAILING_STATE, { id })).mailing;
        return m.status === 'COMPLETED' && m;
      }, 20_000, 'the mailing to complete once the gateway answers');
      expect(done.stats).toMatchObject({ total: AUDIENCE, sent: AUDIENCE });
    } finally {
      gw.simulator.set({ hang: false });
      const stopping = performance.now();
      await herald.stop();
      expect(performance.now() - stopping).toBeLessThan(10_000);
      expect(herald.logs.filter((l) => l.msg === 'failed to stop cleanly')).toEqual([]);
      await gw.simulator.stop();
    }
  }, 45_000);
});

describe('messages held by another process', () => {
  it('should never send a message another process holds, and send it, under its id, once that process is gone', async () => {
    const gw = await startTestGateway();
    const herald = await startTestHerald({ ...gw.config });
    try {
      const clientIds = await insertClients(herald, 30);
      // A running mailing of which another dispatcher has handed out the first 10 members
      // (a lease row, as its claim writes one, and the cursor past them), then vanished:
      // its lease runs out in 2 s.
      const [mailing] = await herald.sql`
        insert into mailings (text, start_at, end_at, status, started_at)
        values ('Held elsewhere', now(), now() + interval '1 minute', 'PAUSED', now())
        returning id`;
      const mailingId = String(mailing.id);
      await herald.sql`
        insert into audiences (mailing_id, started_at, last_client_id, cursor, size)
        values (${mailingId}, clock_timestamp(), ${clientIds.at(-1)!}, ${clientIds[9]}, 30)`;
      await herald.sql`insert into mailing_stats (mailing_id, queued) values (${mailingId}, 30)`;
      const [lease] = await herald.sql<{ ids: string[]; until: Date }[]>`
        with held as (
          select nextval(pg_get_serial_sequence('messages', 'id')) as id, c.id as client_id, c.phone, c.timezone
          from clients c where c.id = any(${clientIds.slice(0, 10)}::bigint[])
        )
        insert into dispatch_leases (mailing_id, owner, until, message_ids, client_ids, phones, timezones)
        select ${mailingId}, 'another-process', now() + interval '2 seconds',
               array_agg(id order by client_id), array_agg(client_id order by client_id), array_agg(phone order by client_id), array_agg(timezone order by client_id)
        from held
        returning message_ids as ids, until`;
      const held = lease.ids.map(Number);
      const heldPhones = await phonesOf(herald, clientIds.slice(0, 10));
      await herald.sql`update mailings set status = 'RUNNING' where id = ${mailingId}`;

      await waitFor(() => gw.simulator.received.length >= 20, 10_000, 'the 20 messages not held to be sent');
      await sleep(300);
      expect(gw.simulator.received.filter((r) => heldPhones.has(Number(r.phone)))).toEqual([]);
      expect(gw.simulator.received).toHaveLength(20);
      expect((await herald.ok(MAILING_STATE, { id: mailingId })).mailing.status).toBe('RUNNING');

      const done = await waitFor(async () => {
        const m = (await herald.ok(MAILING_STATE, { id: mailingId })).mailing;
        return m.status === 'COMPLETED' && m;
      }, 15_000, 'the mailing to complete once the other process is gone');
      expect(done.stats).toMatchObject({ total: 30, sent: 30, pending: 0 });
      const late = gw.simulator.received.filter((r) => heldPhones.has(Number(r.phone)));
      expect(late.map((r) => r.msgId).sort((a, b) => a - b)).toEqual(held);
      for (const r of late) expect(r.at).toBeGreaterThanOrEqual(lease.until.getTime());
      expect(gw.simulator.received).toHaveLength(30); // each once
      expect(await herald.sql`select id from dispatch_leases where mailing_id = ${mailingId}`).toEqual([]);
    } finally {
      await herald.stop();
      await gw.simulator.stop();
    }
  }, 30_000);
});
