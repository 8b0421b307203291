import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerOptions } from '../../src/dispatch/circuit-breaker';
import { FlowControl } from '../../src/dispatch/flow-control';
import { fateAfter, fateBeforeSending } from '../../src/dispatch/message.fate';
import { createLogger } from '../../src/logger';
import { refusal } from '../../src/mailings/mailing.transitions';

const OPTIONS: BreakerOptions = { window: 10, minCalls: 5, failureRate: 0.5, openMs: 500, maxOpenMs: 2_000, halfOpenCalls: 4 };

/** Records `outcomes` (true = failed) one request each, at time `now`. */
function feed(breaker: CircuitBreaker, outcomes: boolean[], now = 0) {
  for (const failed of outcomes) breaker.record(breaker.acquire(), failed, now);
}

describe('circuit breaker', () => {
  it('should not judge before the minimum of calls, however they went', () => {
    const breaker = new CircuitBreaker(OPTIONS);
    feed(breaker, [true, true, true, true]);
    expect(breaker.state).toBe('closed');
    feed(breaker, [true]);
    expect(breaker.state).toBe('open');
  });

  it('should open on the failure rate over the window, not on failures in a row', () => {
    const breaker = new CircuitBreaker(OPTIONS);
    // Isolated failing messages among successes: 4 of 10 failed, never half.
    feed(breaker, [false, true, false, false, true, false, true, false, false, true]);
    expect(breaker.state).toBe('closed');
    // The window slides: older successes leave it as new failures come.
    feed(breaker, [true]);
    expect(breaker.state).toBe('open');
  });

  it('should keep sending while only some messages fail, however long that goes on', () => {
    const breaker = new CircuitBreaker(OPTIONS);
    for (let i = 0; i < 1_000; i++) feed(breaker, [i % 3 === 0]); // a third fail, for ever
    expect(breaker.state).toBe('closed');
    expect(breaker.permits(0)).toBe(Infinity);
  });

  it('should pause, then let several trials through at once, and close when enough succeed', () => {
    const states: string[] = [];
    const breaker = new CircuitBreaker(OPTIONS, (s) => states.push(s));
    feed(breaker, [true, true, true, true, true], 0);
    expect(breaker.permits(100)).toBe(0);
    expect(breaker.waitMs(100)).toBe(400);
    expect(breaker.permits(500)).toBe(4);
    const trials = [breaker.acquire(), breaker.acquire(), breaker.acquire()];
    expect(breaker.permits(500)).toBe(1);
    breaker.record(trials[0], false, 510);
    breaker.record(trials[1], false, 510);
    expect(breaker.state).toBe('half-open');
    breaker.record(trials[2], false, 520); // 3 of 4 passed: more than a failure rate of 0.5 allows to fail
    expect(breaker.state).toBe('closed');
    expect(breaker.permits(520)).toBe(Infinity);
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('should reopen when trials fail, doubling the pause up to its cap', () => {
    const breaker = new CircuitBreaker(OPTIONS);
    feed(breaker, [true, true, true, true, true], 0);
    let now = 0;
    const pauses: number[] = [];
    for (let round = 0; round < 4; round++) {
      now += breaker.waitMs(now);
      expect(breaker.permits(now)).toBe(4);
      feed(breaker, [true, true], now); // 2 of 4 trials failed: the rate holds, open again
      expect(breaker.state).toBe('open');
      pauses.push(breaker.waitMs(now));
    }
    expect(pauses).toEqual([1_000, 2_000, 2_000, 2_000]);
    // Recovery: the next trials succeed, and the next opening starts from the first pause.
    now += breaker.waitMs(now);
    breaker.permits(now);
    feed(breaker, [false, false, false], now);
    expect(breaker.state).toBe('closed');
    feed(breaker, [true, true, true, true, true], now);
    expect(breaker.waitMs(now)).toBe(500);
  });

  it('should ignore what requests made under an earlier state come to', () => {
    const breaker = new CircuitBreaker(OPTIONS);
    const slow = [breaker.acquire(), breaker.acquire()];
    feed(breaker, [true, true, true, true, true], 0);
    expect(breaker.state).toBe('open');
    breaker.permits(500);
    for (const permit of slow) breaker.record(permit, true, 600); // answers from before the opening
    expect(breaker.state).toBe('half-open');
    expect(breaker.permits(600)).toBe(4);
  });
});

describe('flow control', () => {
  const flow = () => new FlowControl({ breaker: OPTIONS, rateLimit: 0, authProbeMs: 1_000 }, createLogger('silent'));

  it('should send one probe at a time, every authProbeMs, while the gateway refuses the token', () => {
    const f = flow();
    const t = f.take(0);
    f.record(t, { kind: 'unauthorized', error: '401' }, 0, 0);
    expect(f.problem()).toMatch(/refuses Herald's token/);
    expect(f.permits(10, 500)).toBe(0);
    expect(f.permits(10, 1_000)).toBe(1);
    const probe = f.take(1_000);
    expect(f.permits(10, 1_500)).toBe(0); // the probe is out
    f.record(probe, { kind: 'sent' }, 0, 1_600);
    expect(f.problem()).toBeNull();
    expect(f.permits(10, 1_600)).toBe(10);
  });

  it('should hold everything for as long as a 429 asks', () => {
    const f = flow();
    f.record(f.take(0), { kind: 'throttled', error: '429', retryAfterMs: 3_000 }, 3_000, 0);
    expect(f.permits(10, 2_999)).toBe(0);
    expect(f.waitMs(1_000)).toBe(2_000);
    expect(f.permits(10, 3_000)).toBe(10);
  });

  it('should cap retries at the breaker\'s longest pause while the gateway as a whole fails', () => {
    const f = flow();
    expect(f.retryCapMs()).toBeNull();
    for (let i = 0; i < 5; i++) f.record(f.take(0), { kind: 'retryable', error: '503' }, 0, 0);
    expect(f.breakerState).toBe('open');
    expect(f.retryCapMs()).toBe(2_000);
  });

  it('should not count refused messages (4xx) against the gateway', () => {
    const f = flow();
    for (let i = 0; i < 50; i++) f.record(f.take(0), { kind: 'rejected', error: '400' }, 0, 0);
    expect(f.breakerState).toBe('closed');
  });
});

describe('a message\'s fate', () => {
  const policy = { retryBaseMs: 1_000, retryMaxMs: 60_000, authProbeMs: 5_000 };
  const END = 100_000;
  const half = () => 0.5;

  it.each([
    [{ kind: 'sent' } as const, { status: 'SENT', error: null, nextAttemptAt: null }],
    [{ kind: 'rejected', error: '400: bad phone' } as const, { status: 'FAILED', error: '400: bad phone', nextAttemptAt: null }],
    [{ kind: 'retryable', error: '503: busy' } as const, { status: 'PENDING', error: '503: busy', nextAttemptAt: 1_000 + 3_000 }],
    [{ kind: 'unauthorized', error: '401' } as const, { status: 'PENDING', error: '401', nextAttemptAt: 1_000 + 5_000 }],
    [{ kind: 'throttled', error: '429', retryAfterMs: 7_000 } as const, { status: 'PENDING', error: '429', nextAttemptAt: 1_000 + 7_000 }],
    // No provider could take it now: looked at again when one may, whatever its attempts.
    [{ kind: 'deferred', error: 'no provider of its route can take it now', retryAfterMs: 50 } as const, { status: 'PENDING', error: 'no provider of its route can take it now', nextAttemptAt: 1_000 + 50 }],
  ])('should turn %j into %j', (outcome, fate) => {
    // attempt 3: backoff 4 s, equal jitter at 0.5 → 3 s
    expect(fateAfter(outcome, 3, 1_000, END, policy, null, half)).toEqual(fate);
  });

  it('should expire a message whose next attempt would come at or after the end', () => {
    expect(fateAfter({ kind: 'retryable', error: 'timeout' }, 1, END - 100, END, policy, null, () => 1)).toEqual({
      status: 'EXPIRED',
      error: 'timeout',
      nextAttemptAt: null,
    });
  });

  it('should cap the backoff while the gateway as a whole fails', () => {
    expect(fateAfter({ kind: 'retryable', error: '503' }, 10, 0, END, policy, 2_000, () => 1).nextAttemptAt).toBe(2_000);
    expect(fateAfter({ kind: 'retryable', error: '503' }, 10, 0, 10 * END, policy, null, () => 1).nextAttemptAt).toBe(60_000);
  });

  it('should send now, wait for the send window, or expire, before any request', () => {
    const window = { fromMinute: 9 * 60, toMinute: 21 * 60 };
    const at = Date.parse('2026-11-23T04:00:00Z'); // 07:00 in Moscow
    expect(fateBeforeSending(at, at + 86_400_000, 'Europe/Moscow', window)).toEqual({
      status: 'PENDING',
      error: null,
      nextAttemptAt: Date.parse('2026-11-23T06:00:00Z'),
    });
    expect(fateBeforeSending(at, at + 3_600_000, 'Europe/Moscow', window)?.status).toBe('EXPIRED');
    expect(fateBeforeSending(at, at + 3_600_000, 'Asia/Vladivostok', window)).toBeNull(); // 14:00 there
    expect(fateBeforeSending(at, at, 'UTC', null)?.status).toBe('EXPIRED');
  });

});

describe('mailing transitions', () => {
  const at = { startAt: 1_000, endAt: 2_000 };
  it.each([
    ['start', 'SCHEDULED', 1_500, null],
    ['start', 'SCHEDULED', 500, 'its startAt has not come'],
    ['start', 'SCHEDULED', 2_000, 'its endAt has passed'],
    ['start', 'RUNNING', 1_500, 'mailing is RUNNING; only a SCHEDULED mailing can become RUNNING'],
    ['pause', 'RUNNING', 1_500, null],
    ['pause', 'PAUSED', 1_500, 'mailing is PAUSED; only a RUNNING mailing can become PAUSED'],
    ['resume', 'PAUSED', 1_500, null],
    ['cancel', 'COMPLETED', 1_500, 'mailing is COMPLETED; only a SCHEDULED or RUNNING or PAUSED mailing can become CANCELLED'],
    ['end', 'RUNNING', 1_999, 'its endAt has not come'],
    ['end', 'PAUSED', 2_000, null],
    ['complete', 'PAUSED', 1_500, 'mailing is PAUSED; only a RUNNING mailing can become COMPLETED'],
  ] as const)('should %s a %s mailing at %i: %s', (transition, status, now, why) => {
    expect(refusal(transition, { status, ...at }, now)).toBe(why);
  });
});
