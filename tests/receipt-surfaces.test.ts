import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewaySimulator } from '../src/gateway/simulator';
import { CREATE_MAILING, inMs, insertClients, phonesOf, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { onlyError, startTestHerald, type TestHerald } from './support/herald';
import { subscribe } from './support/live';
import { sleep, waitFor } from './support/wait';

/*
 * Receipts as every surface shows them: live events, failure reasons, Message.deliveredAt.
 * The receipts here are made by SQL, as the receipts service writes them (SENT → DELIVERED |
 * UNDELIVERED, delivered_at, then the NOTIFY that notifyMessages sends): the receipts route
 * and SMPP receipts come with another part of issue 19, and an end-to-end test through them
 * follows the merge.
 */

// A finished mailing's progress stays open this long after its counts last moved.
const RECEIPT_IDLE_MS = 4_000;

let herald: TestHerald;
let gateway: GatewaySimulator;

beforeAll(async () => {
  const gw = await startTestGateway();
  gateway = gw.simulator;
  herald = await startTestHerald({ ...gw.config, live: { progressIntervalMs: 100, heartbeatMs: 200, receiptIdleMs: RECEIPT_IDLE_MS } });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});

async function completedMailing(n: number, failing = 0) {
  const tag = `r${Math.random().toString(36).slice(2, 10)}`;
  const bad = failing ? await insertClients(herald, failing, { tags: [tag] }) : [];
  await insertClients(herald, n - failing, { tags: [tag] });
  if (bad.length) gateway.set({ rules: [{ phones: [...(await phonesOf(herald, bad))], failTimes: 100, failStatus: 400 }] });
  const data = await herald.ok(CREATE_MAILING, { input: { text: 'Receipts', startAt: inMs(-1000), endAt: inMs(120_000), filter: { tags: [tag] } } });
  const id = data.createMailing.id as string;
  await untilMailingStatus(herald, id, 'COMPLETED', 20_000);
  gateway.set({ rules: [] });
  return id;
}

/** Receipts for `count` SENT messages of the mailing, as the receipts service applies them. */
async function receipts(mailingId: string, status: 'DELIVERED' | 'UNDELIVERED', count: number, error: string | null = null) {
  const rows = await herald.sql<{ id: string }[]>`
    update messages set status = ${status}::message_status, delivered_at = now(), updated_at = now(), last_error = coalesce(${error}, last_error)
    where id in (select id from messages where mailing_id = ${mailingId} and status = 'SENT' order by id limit ${count})
    returning id::text`;
  await herald.sql`select pg_notify('herald_events', ${JSON.stringify({ t: 'messages', m: Number(mailingId), ids: rows.map((r) => Number(r.id)) })})`;
  return rows.map((r) => r.id);
}

const PROGRESS = `subscription($id: ID!) { mailingProgress(mailingId: $id) { status stats { sent delivered undelivered awaitingReceipt deliveryRate } } }`;
type Progress = { mailingProgress: { status: string; stats: { sent: number; delivered: number; undelivered: number; awaitingReceipt: number; deliveryRate: number | null } } };

describe('receipts after a mailing completed', () => {
  it('should keep mailingProgress, statisticsChanged and messageStatusChanged moving, and end progress once nothing awaits a receipt', async () => {
    const id = await completedMailing(10);
    const progress = subscribe<Progress>(herald.url, PROGRESS, { id });
    const changes = subscribe<{ messageStatusChanged: { messageId: string; status: string; message: { deliveredAt: string | null } }[] }>(
      herald.url,
      `subscription($id: ID!) { messageStatusChanged(mailingId: $id) { messageId status message { deliveredAt } } }`,
      { id },
    );
    const statistics = subscribe<{ statisticsChanged: { messages: { delivered: number; undelivered: number } } }>(
      herald.url,
      `subscription { statisticsChanged { messages { delivered undelivered } } }`,
    );
    let ended = false;
    void progress.finished.then(() => (ended = true));
    try {
      await waitFor(() => progress.events.length > 0 && statistics.events.length > 0, 5_000, 'the snapshots');
      expect(progress.events[0].data.mailingProgress).toEqual({ status: 'COMPLETED', stats: { sent: 10, delivered: 0, undelivered: 0, awaitingReceipt: 10, deliveryRate: null } });
      // COMPLETED, yet open: its 10 messages await their receipts.
      await sleep(500);
      expect(ended).toBe(false);

      const delivered = await receipts(id, 'DELIVERED', 6);
      const undelivered = await receipts(id, 'UNDELIVERED', 2, 'UNDELIV err:034');
      await waitFor(() => progress.events.at(-1)!.data.mailingProgress.stats.undelivered === 2, 5_000, 'progress with the receipts');
      expect(progress.events.at(-1)!.data.mailingProgress).toEqual({ status: 'COMPLETED', stats: { sent: 10, delivered: 6, undelivered: 2, awaitingReceipt: 2, deliveryRate: 0.75 } });
      await waitFor(() => statistics.events.at(-1)!.data.statisticsChanged.messages.undelivered >= 2, 5_000, 'statistics with the receipts');
      expect(statistics.events.at(-1)!.data.statisticsChanged.messages.delivered).toBeGreaterThanOrEqual(6);
      const seen = () => changes.events.flatMap((e) => e.data.messageStatusChanged);
      await waitFor(() => seen().length >= 8, 5_000, 'the changed messages');
      expect(new Set(seen().filter((c) => c.status === 'DELIVERED').map((c) => c.messageId))).toEqual(new Set(delivered));
      expect(new Set(seen().filter((c) => c.status === 'UNDELIVERED').map((c) => c.messageId))).toEqual(new Set(undelivered));
      expect(seen().every((c) => c.message.deliveredAt !== null)).toBe(true);
      expect(ended).toBe(false);

      // The last two receipts: nothing awaits one, so progress ends at once, not after the idle bound.
      const lastAt = Date.now();
      await receipts(id, 'DELIVERED', 2);
      await progress.finished;
      expect(Date.now() - lastAt).toBeLessThan(RECEIPT_IDLE_MS / 2);
      expect(progress.events.at(-1)!.data.mailingProgress).toEqual({ status: 'COMPLETED', stats: { sent: 10, delivered: 8, undelivered: 2, awaitingReceipt: 0, deliveryRate: 0.8 } });
      expect(progress.errors).toEqual([]);
    } finally {
      await Promise.all([progress.stop(), changes.stop(), statistics.stop()]);
    }
  });

  it('should end progress of a finished mailing whose receipts never come once its counts stood still for LIVE_RECEIPT_IDLE_MS', async () => {
    const id = await completedMailing(3);
    const startedAt = Date.now();
    const progress = subscribe<Progress>(herald.url, PROGRESS, { id });
    try {
      await progress.finished;
      const took = Date.now() - startedAt;
      expect(took).toBeGreaterThanOrEqual(RECEIPT_IDLE_MS - 200);
      expect(took).toBeLessThan(RECEIPT_IDLE_MS + 3_000);
      expect(progress.events.map((e) => e.data.mailingProgress)).toEqual([{ status: 'COMPLETED', stats: { sent: 3, delivered: 0, undelivered: 0, awaitingReceipt: 3, deliveryRate: null } }]);
    } finally {
      await progress.stop();
    }
  });
});

describe('Mailing.failureReasons', () => {
  const REASONS = `query($id: ID!, $first: Int) { mailing(id: $id) { failureReasons(first: $first) { status reason count } messages(status: DELIVERED, first: 5) { edges { node { status deliveredAt } } } } }`;

  it('should group FAILED, UNDELIVERED and EXPIRED messages by status and lastError, most frequent first', async () => {
    const id = await completedMailing(12, 2);
    await receipts(id, 'UNDELIVERED', 4, 'UNDELIV err:034');
    await receipts(id, 'UNDELIVERED', 1, 'EXPIRED err:000');
    await receipts(id, 'DELIVERED', 3);
    const data = await herald.ok(REASONS, { id });
    const reasons = data.mailing.failureReasons as { status: string; reason: string; count: number }[];
    expect(reasons.map((r) => [r.status, r.reason, r.count])).toEqual([
      ['UNDELIVERED', 'UNDELIV err:034', 4],
      ['FAILED', expect.stringMatching(/^400/), 2],
      ['UNDELIVERED', 'EXPIRED err:000', 1],
    ]);
    // The rows agree.
    const [row] = await herald.sql`select count(*)::int as n from messages where mailing_id = ${id} and status in ('FAILED', 'UNDELIVERED', 'EXPIRED')`;
    expect(reasons.reduce((s, r) => s + r.count, 0)).toBe(row.n);
    const nodes = data.mailing.messages.edges.map((e: { node: { status: string; deliveredAt: string } }) => e.node);
    expect(nodes).toHaveLength(3);
    for (const n of nodes) expect(Date.now() - Date.parse(n.deliveredAt)).toBeLessThan(60_000);

    expect((await herald.ok(REASONS, { id, first: 1 })).mailing.failureReasons).toEqual([reasons[0]]);
    for (const first of [0, 101]) {
      const res = await herald.gql(REASONS, { id, first });
      expect(onlyError(res).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    }
  });

  it('should give an empty list for a mailing without failures', async () => {
    const id = await completedMailing(2);
    expect((await herald.ok(REASONS, { id })).mailing.failureReasons).toEqual([]);
  });
});
