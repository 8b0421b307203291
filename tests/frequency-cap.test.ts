import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { createMailing, inMs, insertClients, phonesOf, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { createTestDatabase } from './support/herald';
import { clientOf, spawnReady, terminate, type RunningHerald } from './support/process';

describe('a frequency cap', () => {
  it('should hold exactly for two mailings running at once in two processes: one message per client in the window', async () => {
    const database = await createTestDatabase();
    const gw = await startTestGateway({ latencyMs: [10, 40] });
    const sql = postgres(database.url, { max: 2, onnotice: () => {} });
    const env = {
      DATABASE_URL: database.url,
      SENDER_URL: gw.config.senderUrl,
      SENDER_TOKEN: gw.config.senderToken,
      SENDER_CONCURRENCY: '4',
      DISPATCH_POLL_MS: '20',
      FREQUENCY_CAP: '1/1h',
      LOG_LEVEL: 'warn',
    };
    let a: RunningHerald | undefined;
    let b: RunningHerald | undefined;
    try {
      a = await spawnReady(env);
      b = await spawnReady(env);
      const clientIds = await insertClients({ sql }, 40, { tags: ['capped'] });
      const phones = await phonesOf({ sql }, clientIds);
      const input = { text: 'Offer', startAt: inMs(-1000), endAt: inMs(60_000), filter: { tags: ['capped'] } };
      // Both at once, one through each process: their audiences overlap entirely.
      const [first, second] = await Promise.all([createMailing(clientOf(a.url), input), createMailing(clientOf(b.url), { ...input, text: 'Other offer' })]);
      const done = await Promise.all([first, second].map((m) => untilMailingStatus(clientOf(a!.url), m.id, 'COMPLETED', 30_000)));

      // Every client got exactly one of the two: the cap held across mailings and processes.
      const perPhone = new Map<number, number>();
      for (const r of gw.simulator.received) if (phones.has(Number(r.phone))) perPhone.set(Number(r.phone), (perPhone.get(Number(r.phone)) ?? 0) + 1);
      expect(perPhone.size).toBe(40);
      expect([...perPhone.values()].every((n) => n === 1)).toBe(true);
      expect(done[0].stats.sent + done[1].stats.sent).toBe(40);
      expect((await sql`select count(*)::int as n from messages where status = 'SKIPPED' and last_error = 'frequency cap'`)[0].n).toBe(40);
      expect((await sql`select count(*)::int as n from frequency_ledger`)[0].n).toBe(40);

      // A third mailing in the window sends nothing, skipping everyone for the cap.
      const third = await createMailing(clientOf(a.url), { ...input, text: 'Third' });
      const skipped = await untilMailingStatus(clientOf(a.url), third.id, 'COMPLETED', 30_000);
      expect(skipped.stats).toMatchObject({ total: 40, sent: 0 });
      expect(gw.simulator.received.filter((r) => r.text === 'Third')).toEqual([]);
    } finally {
      await Promise.all([terminate(a), terminate(b)]);
      await sql.end();
      await gw.simulator.stop();
      await database.drop();
    }
  }, 90_000);
});
