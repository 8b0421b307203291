import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flakyPhase } from '../src/gateway/simulator.flaky';
import { startTestHerald, type TestHerald } from './support/herald';
import { createMailing, insertClients } from './support/fixtures';
import { waitFor } from './support/wait';

// SENDER_SIMULATOR_MODE=flaky, on a cycle of 12 s instead of a minute: what a new user sees in
// the first minute (retries, the breaker opening, a mailing that pauses itself) in seconds.
// (6 s left its refusing phase 1 s: on a loaded machine too few results came back in it for
// the mailing to pause, once in a CI run.)
describe('the built-in simulator in flaky mode', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startTestHerald({ simulatorMode: { mode: 'flaky', flakyCycleMs: 12_000 }, dispatch: { concurrency: 200 } });
  });
  afterAll(() => herald?.stop());

  it('should have a cycle of slow, down and refusing phases', () => {
    const names = Array.from({ length: 100 }, (_, i) => flakyPhase(i * 600, 60_000).name);
    expect(new Set(names)).toEqual(new Set(['slow', 'down', 'refusing']));
    expect(flakyPhase(12_000).behaviour.down).toBe(true);
    expect(flakyPhase(0).behaviour.latencyMs).toEqual([200, 1_500]);
    expect(flakyPhase(30_000).name).toBe('refusing');
    expect(flakyPhase(90_000).name).toBe('refusing'); // the next minute's
  });

  it('should make a mailing retry, open the breaker, and pause itself, and say so at /_sim/stats and in providers', async () => {
    const providers = await herald.ok('{ providers { name simulated } }');
    expect(providers.providers).toEqual([{ name: 'default', simulated: true }]);
    const stats = await (await fetch(`${herald.url}/_sim/stats`)).json();
    expect(stats).toMatchObject({ mode: 'flaky', phase: 'slow' });
    await new Promise((r) => setTimeout(r, 1_500)); // a quarter of the cycle: it counts from the first request, not from its start
    expect((await (await fetch(`${herald.url}/_sim/stats`)).json()).phase).toBe('slow');

    await insertClients(herald, 3_000);
    const { id } = await createMailing(herald, { endAt: new Date(Date.now() + 120_000).toISOString() });
    const paused = await waitFor(async () => {
      const { mailing } = await herald.ok(`query($id: ID!) { mailing(id: $id) { status pausedReason } }`, { id });
      return mailing.status === 'PAUSED' && mailing;
    }, 60_000, 'the mailing to pause itself');
    expect(paused.pausedReason).toMatch(/% of its last results failed/);

    const retried = await herald.sql<{ n: string }[]>`select count(*) as n from messages where mailing_id = ${Number(id)} and attempts > 1`;
    expect(Number(retried[0]!.n)).toBeGreaterThan(0);
    expect(herald.logs.some((l) => l.msg === 'gateway circuit breaker opened: sending paused')).toBe(true);
    const failed = await herald.sql<{ n: string }[]>`select count(*) as n from messages where mailing_id = ${Number(id)} and status = 'FAILED'`;
    expect(Number(failed[0]!.n)).toBeGreaterThan(0);

    // Steady again on request, as documented.
    const steady = await (await fetch(`${herald.url}/_sim/mode`, { method: 'POST', body: '{"mode":"steady"}' })).json();
    expect(steady).toMatchObject({ mode: 'steady', phase: null, behaviour: { errorRate: 0, rejectRate: 0, down: false, latencyMs: 0 } });
  }, 90_000);
});
