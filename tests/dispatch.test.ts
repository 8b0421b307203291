import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewaySimulator } from '../src/gateway/simulator';
import { CREATE_MAILING, inMs, insertClients, MAILING_STATE } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { startTestHerald, type TestHerald } from './support/herald';
import { sleep, waitFor } from './support/wait';

let herald: TestHerald;
let gateway: GatewaySimulator;

beforeAll(async () => {
  const gw = await startTestGateway();
  gateway = gw.simulator;
  herald = await startTestHerald({ ...gw.config, dispatch: { concurrency: 10 } });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});

async function createMailing(input: Record<string, unknown>) {
  const data = await herald.ok(CREATE_MAILING, { input: { text: 'Hello', startAt: inMs(-1000), endAt: inMs(60_000), ...input } });
  return data.createMailing as { id: string; status: string };
}

async function stateOf(id: string) {
  return (await herald.ok(MAILING_STATE, { id })).mailing;
}

const receivedFor = async (mailingId: string) => {
  const ids = new Set((await herald.sql`select id from messages where mailing_id = ${mailingId}`).map((r) => Number(r.id)));
  return gateway.received.filter((r) => ids.has(r.msgId));
};

describe('starting a mailing', () => {
  it('should send one message to every matching client at once when startAt has come', async () => {
    const tag = `now-${Date.now()}`;
    const clientIds = await insertClients(herald, 25, { tags: [tag] });
    await insertClients(herald, 5, { tags: ['someone-else'] });
    const mailing = await createMailing({ text: 'Sale today', filter: { tags: [tag] } });

    const done = await waitFor(async () => {
      const m = await stateOf(mailing.id);
      return m.status === 'COMPLETED' && m;
    }, 10_000, "mailing to complete");
    expect(done.stats).toMatchObject({ total: 25, sent: 25, pending: 0, failed: 0 });

    const rows = await herald.sql`select id, client_id, phone, status, attempts, sent_at from messages where mailing_id = ${mailing.id} order by id`;
    expect(rows.map((r) => Number(r.client_id)).sort((a, b) => a - b)).toEqual(clientIds);
    expect(rows.every((r) => r.status === 'SENT' && r.attempts === 1 && r.sent_at)).toBe(true);
    const received = await receivedFor(mailing.id);
    expect(received).toHaveLength(25);
    for (const r of received) {
      const row = rows.find((x) => Number(x.id) === r.msgId)!;
      expect(r).toMatchObject({ phone: Number(row.phone), text: 'Sale today', status: 200 });
    }
  });
});
