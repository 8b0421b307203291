import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayBehaviour, GatewaySimulator } from '../src/gateway/simulator';
import { CREATE_MAILING, inMs, insertClients, phonesOf, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { startTestHerald, type TestHerald } from './support/herald';
import { sleep } from './support/wait';

/**
 * One Herald serving mailing after mailing, as in production, against a gateway whose
 * answers have a tail (2% take 1.5 s) and whose faults come and go. Whatever one mailing
 * went through (retries, rejections, a hang, an outage) must not slow the next: state that
 * outlives a mailing (breaker, pauses, cursors) is judged here, in sequence, with the
 * production defaults for retries and the breaker. Each scenario alone takes a few seconds.
 */
let herald: TestHerald;
let gateway: GatewaySimulator;
const TAIL: Partial<GatewayBehaviour> = { latencyMs: [10, 80], tailRate: 0.02, tailMs: 1_500 };

beforeAll(async () => {
  const gw = await startTestGateway(TAIL);
  gateway = gw.simulator;
  herald = await startTestHerald({
    ...gw.config,
    dispatch: { concurrency: 20, requestTimeoutMs: 5_000, leaseMs: 10_000, retryBaseMs: 1_000, retryMaxMs: 60_000, breaker: { openMs: 500, maxOpenMs: 2_000 } },
  });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});

/** Runs one mailing to `n` new clients to completion; returns its stats, how long it took, and its phones. */
async function mailing(n: number, behaviour: (phones: number[]) => Partial<GatewayBehaviour> = () => ({}), timeoutMs = 15_000) {
  const tag = `l${Math.random().toString(36).slice(2, 10)}`;
  const phones = [...(await phonesOf(herald, await insertClients(herald, n, { tags: [tag] })))].sort((a, b) => a - b);
  gateway.set({ ...TAIL, forceStatus: null, hang: false, rules: [], ...behaviour(phones) });
  const started = Date.now();
  const data = await herald.ok(CREATE_MAILING, { input: { text: 'Again', startAt: inMs(-1000), endAt: inMs(120_000), filter: { tags: [tag] } } });
  const done = await untilMailingStatus(herald, data.createMailing.id, 'COMPLETED', timeoutMs);
  return { stats: done.stats, ms: Date.now() - started, phones };
}

const openings = () => herald.logs.filter((l) => l.msg === 'gateway circuit breaker opened: sending paused').length;

describe('one Herald, many mailings in a row', () => {
  let plainMs = 0;

  it('should send a plain mailing through a gateway with a tail', async () => {
    const run = await mailing(300);
    expect(run.stats).toMatchObject({ total: 300, sent: 300 });
    plainMs = run.ms;
    expect(run.ms).toBeLessThan(6_000);
  });

  it('should then send ten messages that each fail once or twice, without opening the breaker', async () => {
    const before = openings();
    const run = await mailing(60, (phones) => ({
      rules: phones.slice(0, 10).map((phone, i) => ({ phones: [phone], failTimes: 1 + (i % 2), failStatus: 503 })),
    }));
    expect(run.stats).toMatchObject({ total: 60, sent: 60 });
    expect(openings()).toBe(before);
    expect(run.ms).toBeLessThan(8_000); // two backoffs of about 1 and 2 s, and the tail
  });

  it('should then fail the messages the gateway rejects, at once', async () => {
    const run = await mailing(60, (phones) => ({ rules: [{ phones: phones.slice(0, 10), failTimes: 1_000, failStatus: 400 }] }));
    expect(run.stats).toMatchObject({ total: 60, sent: 50, failed: 10 });
    expect(run.ms).toBeLessThan(5_000);
  });

  it('should then get through a gateway that hangs once and recovers', async () => {
    const tag = `h${Math.random().toString(36).slice(2, 10)}`;
    await insertClients(herald, 100, { tags: [tag] });
    gateway.set({ ...TAIL, hang: true, rules: [] });
    const data = await herald.ok(CREATE_MAILING, { input: { text: 'Hang', startAt: inMs(-1000), endAt: inMs(120_000), filter: { tags: [tag] } } });
    await sleep(2_000);
    gateway.set({ hang: false }); // the hanging requests are cut off; the gateway answers again
    const recoveredAt = Date.now();
    const done = await untilMailingStatus(herald, data.createMailing.id, 'COMPLETED', 15_000);
    expect(done.stats).toMatchObject({ total: 100, sent: 100 });
    expect(Date.now() - recoveredAt).toBeLessThan(6_000);
  });

  it('should then ride out a 3 s outage of 503s and finish within 5 s of its end', async () => {
    const tag = `o${Math.random().toString(36).slice(2, 10)}`;
    await insertClients(herald, 200, { tags: [tag] });
    gateway.set({ ...TAIL, forceStatus: 503, rules: [] });
    const data = await herald.ok(CREATE_MAILING, { input: { text: 'Outage', startAt: inMs(-1000), endAt: inMs(120_000), filter: { tags: [tag] } } });
    await sleep(3_000);
    gateway.set({ forceStatus: null });
    const endedAt = Date.now();
    const done = await untilMailingStatus(herald, data.createMailing.id, 'COMPLETED', 15_000);
    expect(done.stats).toMatchObject({ total: 200, sent: 200 });
    expect(Date.now() - endedAt).toBeLessThan(5_000 + 1_500);
  });

  it('should then send a plain mailing as fast as the first one: nothing of the faults lingers', async () => {
    const run = await mailing(300);
    expect(run.stats).toMatchObject({ total: 300, sent: 300 });
    expect(run.ms).toBeLessThan(Math.max(2 * plainMs, plainMs + 1_000));
  });
});
