import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR, type GatewaySimulator } from '../src/gateway/simulator';
import { CREATE_MAILING, inMs, insertClients, mailingState, phonesOf, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { startTestHerald, type TestHerald } from './support/herald';
import { subscribe } from './support/live';
import { sleep, waitFor } from './support/wait';

/**
 * A request holds only its own slot: slow answers, failing messages and outages of the
 * gateway slow down what they touch and nothing else, and results show as they come.
 * Retries and the breaker run with their production defaults here (only the request
 * timeout is set), so that "resumes within 5 s" is what a deployment gets.
 */
let herald: TestHerald;
let gateway: GatewaySimulator;
const CONCURRENCY = 10;

beforeAll(async () => {
  const gw = await startTestGateway();
  gateway = gw.simulator;
  herald = await startTestHerald({
    ...gw.config,
    dispatch: {
      concurrency: CONCURRENCY,
      requestTimeoutMs: 10_000,
      leaseMs: 15_000,
      retryBaseMs: 1_000,
      retryMaxMs: 60_000,
      breaker: { openMs: 500, maxOpenMs: 2_000 },
    },
  });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});
afterEach(() => gateway.set(DEFAULT_BEHAVIOUR));

async function audience(n: number) {
  const tag = `f${Math.random().toString(36).slice(2, 10)}`;
  const clientIds = await insertClients(herald, n, { tags: [tag] });
  const phones = [...(await phonesOf(herald, clientIds))].sort((a, b) => a - b);
  return { tag, clientIds, phones };
}

async function startMailing(tag: string) {
  const data = await herald.ok(CREATE_MAILING, { input: { text: 'Flow', startAt: inMs(-1000), endAt: inMs(120_000), filter: { tags: [tag] } } });
  return data.createMailing as { id: string; status: string };
}

const breakerOpenings = () => herald.logs.filter((l) => l.msg === 'gateway circuit breaker opened: sending paused').length;

describe('a slow answer holds only its own request', () => {
  it('should have every other message SENT while three answers are still outstanding', async () => {
    const { tag, phones } = await audience(60);
    const slow = phones.slice(0, 3); // the first handed out, so they sit in slots from the start
    gateway.set({ latencyMs: [20, 100], rules: [{ phones: slow, latencyMs: 8_000 }] });
    const mailing = await startMailing(tag);
    expect(mailing.status).toBe('RUNNING');

    const state = await waitFor(async () => {
      const m = await mailingState(herald, mailing.id);
      return m.stats.sent === 57 && m;
    }, 6_000, 'the 57 messages with quick answers to be SENT');
    // ... and the three slow ones are still unanswered at the gateway: they held only their slots.
    const slowRequests = gateway.received.filter((r) => slow.includes(Number(r.phone)));
    expect(slowRequests).toHaveLength(3);
    expect(slowRequests.every((r) => r.answeredAt === null)).toBe(true);
    expect(state).toMatchObject({ status: 'RUNNING', stats: { total: 60, pending: 3, sent: 57 } });
    // The rest went out at full speed: CONCURRENCY - 3 slots for 57 messages of 20-100 ms.
    const quick = gateway.received.filter((r) => !slow.includes(Number(r.phone)));
    expect(Math.max(...quick.map((r) => r.at)) - Math.min(...quick.map((r) => r.at))).toBeLessThan(3_000);

    const done = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 12_000);
    expect(done.stats).toMatchObject({ total: 60, sent: 60 });
  }, 30_000);
});

describe('results as they come', () => {
  it('should show progress between the start and the end of a mailing whose answers are spread out', async () => {
    const { tag, phones } = await audience(12);
    // Answers after 0, 0.3, 0.6 … 3.3 s: ten requests out at once, the last two as slots free.
    gateway.set({ rules: phones.map((phone, i) => ({ phones: [phone], latencyMs: i * 300 })) });
    const tagged = await startMailing(tag);
    const sub = subscribe<{ mailingProgress: { stats: { sent: number } } }>(
      herald.url,
      'subscription($id: ID!) { mailingProgress(mailingId: $id) { status stats { sent } } }',
      { id: tagged.id },
    );
    try {
      await sub.finished;
      expect(sub.errors).toEqual([]);
      const sent = sub.events.map((e) => e.data.mailingProgress.stats.sent);
      expect(sent.at(-1)).toBe(12);
      // Not 0, 0, 0, 12: the counts climb in many steps, never back.
      expect(new Set(sent.filter((n) => n > 0 && n < 12)).size).toBeGreaterThanOrEqual(5);
      for (let i = 1; i < sent.length; i++) expect(sent[i]).toBeGreaterThanOrEqual(sent[i - 1]);
      // Each answer shows within a flush and a progress interval of the gateway giving it.
      const answers = gateway.received.filter((r) => phones.includes(Number(r.phone))).map((r) => r.answeredAt!).sort((a, b) => a - b);
      answers.forEach((answeredAt, k) => {
        const shown = sub.events.find((e) => e.data.mailingProgress.stats.sent >= k + 1);
        expect(shown, `answer ${k + 1}`).toBeDefined();
        expect(shown!.at - answeredAt, `answer ${k + 1} shown ${shown!.at - answeredAt} ms after the gateway gave it`).toBeLessThan(800);
      });
    } finally {
      await sub.stop();
    }
  }, 20_000);
});

describe('gateway health', () => {
  it('should let isolated failing messages fail and retry without slowing the others or opening the breaker', async () => {
    const { tag, phones } = await audience(100);
    const failing = phones.filter((_, i) => i % 10 === 3); // 10 of 100, spread through the audience
    gateway.set({
      latencyMs: [20, 50],
      rules: failing.map((phone, i) => ({ phones: [phone], failTimes: 1 + (i % 2), failStatus: 500 })),
    });
    const openingsBefore = breakerOpenings();
    const started = Date.now();
    const mailing = await startMailing(tag);
    const done = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 15_000);
    expect(done.stats).toMatchObject({ total: 100, sent: 100, failed: 0 });
    expect(breakerOpenings()).toBe(openingsBefore);

    // The 90 others went out in one pass at full speed, not behind the failing ones...
    const firstOf = (phone: number) => gateway.received.find((r) => Number(r.phone) === phone)!;
    const others = phones.filter((p) => !failing.includes(p)).map((p) => firstOf(p));
    expect(others.every((r) => r.status === 200)).toBe(true);
    expect(Math.max(...others.map((r) => r.answeredAt!)) - started).toBeLessThan(2_500);
    // ... and the failing ones were each tried as many times as they failed, and once more.
    for (const [i, phone] of failing.entries()) {
      expect(gateway.received.filter((r) => Number(r.phone) === phone)).toHaveLength(2 + (i % 2));
    }
    // Retries follow the backoff (first within about a second, the second about two later),
    // not a pause that grows across the mailing.
    expect(Date.now() - started).toBeLessThan(8_000);
  }, 30_000);

  it('should resume full-speed sending within 5 s once an outage ends (refused connections, then 503s)', async () => {
    // 10 slots of 100 ms: 100 messages a second, so 1,500 outlast the outage by far.
    const { tag } = await audience(1_500);
    gateway.set({ latencyMs: 100 });
    const mailing = await startMailing(tag);
    await waitFor(async () => (await mailingState(herald, mailing.id)).stats.sent >= 50, 10_000, 'sending to be under way');
    const rateBefore = await rateOver(1_000);

    await gateway.refuse();
    await sleep(2_000);
    await gateway.accept();
    gateway.set({ latencyMs: 100, forceStatus: 503 });
    await sleep(3_000);
    const during = gateway.received.filter((r) => r.at > Date.now() - 3_000).length;
    gateway.set({ latencyMs: 100, forceStatus: null });
    const endedAt = Date.now();
    // The breaker kept the flood down: a trickle of trials, not full speed against a dead gateway.
    expect(during).toBeLessThan(rateBefore * 0.5);
    expect(breakerOpenings()).toBeGreaterThan(0);

    // Within 5 s of the end, a full second at the speed of before.
    const resumedAt = await waitFor(async () => {
      const ok = gateway.received.filter((r) => r.status === 200 && r.at > Date.now() - 1_000 && r.at > endedAt);
      return ok.length >= rateBefore * 0.7 ? Date.now() : null;
    }, 8_000, 'a second at full speed');
    expect(resumedAt - endedAt).toBeLessThanOrEqual(5_000);
    const done = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 30_000);
    expect(done.stats).toMatchObject({ total: 1_500, sent: 1_500 });
  }, 60_000);
});

/** Requests the gateway answered 200 over the next `ms`. */
async function rateOver(ms: number): Promise<number> {
  const from = Date.now();
  await sleep(ms);
  return gateway.received.filter((r) => r.status === 200 && r.at >= from).length;
}
