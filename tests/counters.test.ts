import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewaySimulator } from '../src/gateway/simulator';
import { CREATE_MAILING, inMs, insertClients } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { startTestHerald, type TestHerald } from './support/herald';
import { waitFor } from './support/wait';

let herald: TestHerald;
let gateway: GatewaySimulator;

beforeAll(async () => {
  const gw = await startTestGateway({ errorRate: 0.3, rejectRate: 0.2, malformedRate: 0.1, latencyMs: [0, 20] });
  gateway = gw.simulator;
  herald = await startTestHerald({ ...gw.config, dispatch: { concurrency: 16 } });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});

const STATS = `{ statistics { mailingCount messages { total pending sent failed expired cancelled } }
  mailings(first: 500) { edges { node { id stats { total pending sent failed expired cancelled } } } } }`;

/** What the rows say, counted the slow way. */
async function countedFromRows() {
  const rows = await herald.sql<{ mailing_id: string; status: string; n: number }[]>`
    select mailing_id, status, count(*)::int as n from messages group by mailing_id, status`;
  const perMailing = new Map<string, Record<string, number>>();
  const overall: Record<string, number> = { total: 0, pending: 0, sent: 0, failed: 0, expired: 0, cancelled: 0 };
  for (const r of rows) {
    const m = perMailing.get(String(r.mailing_id)) ?? { total: 0, pending: 0, sent: 0, failed: 0, expired: 0, cancelled: 0 };
    m[r.status.toLowerCase()] += r.n;
    m.total += r.n;
    overall[r.status.toLowerCase()] += r.n;
    overall.total += r.n;
    perMailing.set(String(r.mailing_id), m);
  }
  return { perMailing, overall };
}

describe('statistics from maintained counters', () => {
  it('should agree exactly with the message rows after faulty mailings, cancellation, expiry and deletions', async () => {
    const create = async (n: number, input: Record<string, unknown> = {}) => {
      const tag = `k${Math.random().toString(36).slice(2, 10)}`;
      await insertClients(herald, n, { tags: [tag] });
      const data = await herald.ok(CREATE_MAILING, { input: { text: 'x', startAt: inMs(-500), endAt: inMs(60_000), filter: { tags: [tag] }, ...input } });
      return data.createMailing.id as string;
    };
    const status = async (id: string) => (await herald.ok(`query($id: ID!) { mailing(id: $id) { status } }`, { id })).mailing?.status;

    // A third of its results fail by design: this test is about counting them, so the
    // automatic pause (a failure share over MAX_FAILURE_RATE, 0.5, from 20 results on,
    // which a run of bad luck reaches) must not stop it short of COMPLETED.
    const faulty = await create(300, { maxFailureRate: 1 });
    const expiring = await create(200, { endAt: inMs(1_200) });
    const cancelled = await create(200);
    const deleted = await create(100);
    await waitFor(async () => (await status(cancelled)) === 'RUNNING' && (await status(faulty)) !== 'SCHEDULED', 10_000, 'the mailings to start');
    await herald.ok(`mutation($id: ID!) { cancelMailing(id: $id) { id } }`, { id: cancelled });
    // A client of the faulty mailing leaves; its message, if unsent, leaves with it.
    const [someClient] = await herald.sql`select client_id from messages where mailing_id = ${faulty} limit 1`;
    await herald.ok(`mutation($id: ID!) { deleteClient(id: $id) }`, { id: String(someClient.client_id) });
    await herald.ok(`mutation($id: ID!) { deleteMailing(id: $id) }`, { id: deleted });

    await waitFor(async () => (await status(faulty)) === 'COMPLETED' && (await status(expiring)) === 'COMPLETED', 30_000, 'both to finish');

    const { statistics, mailings } = await herald.ok(STATS);
    const rows = await countedFromRows();
    expect(statistics.messages).toEqual(rows.overall);
    for (const { node } of mailings.edges) {
      expect(node.stats, `mailing ${node.id}`).toEqual(rows.perMailing.get(node.id) ?? { total: 0, pending: 0, sent: 0, failed: 0, expired: 0, cancelled: 0 });
    }
    // The faults really happened.
    expect(rows.overall.failed).toBeGreaterThan(0);
    expect(rows.overall.expired + rows.overall.cancelled).toBeGreaterThan(0);
    expect((await herald.sql`select count(*)::int as n from mailing_stats where mailing_id = ${deleted}`)[0].n).toBe(0);
  });
});
