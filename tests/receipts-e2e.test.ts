import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { parseProvidersFile } from '../src/providers/providers.file';
import { SmppSimulator } from '../src/providers/smpp.simulator';
import { CREATE_MAILING, inMs, insertClients, phonesOf, untilMailingStatus } from './support/fixtures';
import { startTestHerald, type TestHerald } from './support/herald';
import { waitFor } from './support/wait';

// Issue 19 end to end, every part real: the simulators send receipts and replies the way a
// provider does, Herald takes them on its own routes and binds, and what an operator reads
// (stats, inbound messages, opt-outs, a later mailing's audience) follows.

const STATS = `query($id: ID!) { mailing(id: $id) { status stats { total sent delivered undelivered awaitingReceipt deliveryRate } failureReasons { status reason count } } }`;

async function mailingOf(herald: TestHerald, tag: string) {
  const data = await herald.ok(CREATE_MAILING, { input: { text: 'Hello from Herald', startAt: inMs(-1000), endAt: inMs(60_000), filter: { tags: [tag] } } });
  return data.createMailing.id as string;
}

describe('the built-in simulator with receipts on (what `npm start` runs)', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    // The defaults of a fresh start, as loadConfig gives them, with a short receipt delay.
    const defaults = loadConfig({}).simulatorReceipts;
    expect(defaults.receipts).toBe(true);
    herald = await startTestHerald({ simulatorReceipts: { ...defaults, deliveredRate: 0.8, receiptDelayMs: [0, 100] } });
  }, 60_000);
  afterAll(() => herald?.stop());

  it('should end every sent message DELIVERED or UNDELIVERED, at about the simulator\'s delivered share, through POST /providers/default/receipts', async () => {
    // Two mailings in a row on one Herald: receipts of the first keep coming while the second sends.
    for (const round of [1, 2]) {
      const tag = `e2e${round}${Math.random().toString(36).slice(2, 8)}`;
      const clientIds = await insertClients(herald, 300, { tags: [tag] });
      const id = await mailingOf(herald, tag);
      await untilMailingStatus(herald, id, 'COMPLETED', 30_000);
      const stats = await waitFor(async () => {
        const m = (await herald.ok(STATS, { id })).mailing;
        return m.stats.awaitingReceipt === 0 && m.stats.sent === 300 && m;
      }, 20_000, 'every receipt in');
      expect(stats.status).toBe('COMPLETED');
      expect(stats.stats.delivered + stats.stats.undelivered).toBe(300);
      // 300 draws at 0.8: 4σ is ±0.092
      expect(stats.stats.deliveryRate).toBeGreaterThan(0.7);
      expect(stats.stats.deliveryRate).toBeLessThan(0.9);
      expect(stats.stats.deliveryRate).toBeCloseTo(stats.stats.delivered / 300, 10);
      // The failure reasons are the simulator's codes, grouped, adding up to the undelivered.
      const undeliveredReasons = stats.failureReasons.filter((r: any) => r.status === 'UNDELIVERED');
      expect(undeliveredReasons.reduce((n: number, r: any) => n + r.count, 0)).toBe(stats.stats.undelivered);
      for (const r of undeliveredReasons) expect(r.reason).toMatch(/^(undelivered|expired|rejected)/);
      // Rows in Postgres say the same, each with its receipt's time.
      const [row] = await herald.sql<{ delivered: number; undelivered: number; without_time: number }[]>`
        select count(*) filter (where status = 'DELIVERED')::int as delivered, count(*) filter (where status = 'UNDELIVERED')::int as undelivered,
               count(*) filter (where status in ('DELIVERED', 'UNDELIVERED') and delivered_at is null)::int as without_time
        from messages where mailing_id = ${id}`;
      expect(row).toEqual({ delivered: stats.stats.delivered, undelivered: stats.stats.undelivered, without_time: 0 });
    }
  }, 120_000);
});

describe('an SMSC (the SMPP simulator) sending receipts and a STOP, then START', () => {
  const PASSWORD = 'e2e-pw';
  let herald: TestHerald;
  let smsc: SmppSimulator;
  beforeAll(async () => {
    smsc = new SmppSimulator({ systemId: 'herald', password: PASSWORD, behaviour: { receipts: true, deliveredRate: 1, receiptDelayMs: [0, 50] } });
    const { port } = await smsc.start();
    const providers = parseProvidersFile(
      JSON.stringify({
        providers: [{ name: 'smsc', type: 'smpp', host: '127.0.0.1', port, systemId: 'herald', password: '${PW}', sourceAddr: 'Herald', binds: 1, window: 10 }],
        routes: [{ providers: ['smsc'] }],
      }),
      { PW: PASSWORD },
    );
    herald = await startTestHerald({ providers });
    await waitFor(async () => smsc.bound.length === 1, 10_000, 'the bind up');
  }, 60_000);
  afterAll(async () => {
    await herald?.stop();
    await smsc?.stop();
  });

  it('should deliver by receipt, opt a phone out by its STOP reply so the next mailing leaves it out, and back in by START', async () => {
    const tag = `smppe2e${Math.random().toString(36).slice(2, 8)}`;
    const clientIds = await insertClients(herald, 20, { tags: [tag] });
    const phones = [...(await phonesOf(herald, clientIds))].map(String);
    const stopper = phones[0];

    const first = await mailingOf(herald, tag);
    await untilMailingStatus(herald, first, 'COMPLETED', 30_000);
    await waitFor(async () => (await herald.ok(STATS, { id: first })).mailing.stats.delivered === 20, 15_000, '20 DELIVERED by SMPP receipts');

    // The phone answers STOP (lower case, with spaces, as people type it).
    await smsc.reply(stopper, '  stop ');
    const inbound = await waitFor(async () => {
      const page = await herald.ok(`query($p: String) { inboundMessages(first: 5, phone: $p) { edges { node { from text provider action client { id } } } } }`, { p: stopper });
      return page.inboundMessages.edges[0]?.node;
    }, 10_000, 'the reply kept');
    expect(inbound).toMatchObject({ from: stopper, provider: 'smsc', action: 'OPTED_OUT' });
    expect(inbound.client).not.toBeNull();
    const optOuts = await herald.ok(`query($p: String) { optOuts(first: 5, phone: $p) { edges { node { phone reason } } } }`, { p: stopper });
    expect(optOuts.optOuts.edges.map((e: any) => e.node)).toEqual([{ phone: stopper, reason: 'STOP by SMS' }]);

    const before = smsc.messages.length;
    const second = await mailingOf(herald, tag);
    await untilMailingStatus(herald, second, 'COMPLETED', 30_000);
    const sentTo = smsc.messages.slice(before).map((m) => String(m.destination));
    expect(sentTo).toHaveLength(19);
    expect(sentTo).not.toContain(stopper);

    await smsc.reply(stopper, 'START');
    await waitFor(async () => (await herald.ok(`query($p: String) { optOuts(first: 5, phone: $p) { totalCount } }`, { p: stopper })).optOuts.totalCount === 0, 10_000, 'the opt-out lifted');
    const again = smsc.messages.length;
    const third = await mailingOf(herald, tag);
    await untilMailingStatus(herald, third, 'COMPLETED', 30_000);
    expect(smsc.messages.slice(again).map((m) => String(m.destination))).toContain(stopper);
  }, 120_000);
});
