import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../src/dispatch/backoff';
import { isInside, localSecondOfDay, nextOpening, parseTimeOfDay } from '../../src/mailings/send-window';
import { classifyResponse, parseRetryAfter } from '../../src/gateway/gateway.outcome';

const at = (iso: string) => Date.parse(iso);

describe('send window', () => {
  const nineToNine = { fromMinute: 9 * 60, toMinute: 21 * 60 };
  const overnight = { fromMinute: 22 * 60, toMinute: 6 * 60 };

  it('should read the local time of day in the client time zone', () => {
    expect(localSecondOfDay(at('2026-11-23T06:30:15Z'), 'Europe/Moscow')).toBe(9 * 3600 + 30 * 60 + 15);
    expect(localSecondOfDay(at('2026-11-23T06:30:15Z'), 'Asia/Vladivostok')).toBe(16 * 3600 + 30 * 60 + 15);
  });

  it('should tell inside from outside, with and without wrapping midnight', () => {
    expect(isInside(nineToNine, 9 * 60)).toBe(true);
    expect(isInside(nineToNine, 21 * 60)).toBe(false);
    expect(isInside(overnight, 23 * 60)).toBe(true);
    expect(isInside(overnight, 5 * 60 + 59)).toBe(true);
    expect(isInside(overnight, 12 * 60)).toBe(false);
  });

  it('should send at once inside the window and wait for the next local opening outside it', () => {
    // 07:00 in Moscow (UTC+3): opens at 09:00 local = 06:00Z.
    expect(nextOpening(at('2026-11-23T04:00:00Z'), 'Europe/Moscow', nineToNine)).toBe(at('2026-11-23T06:00:00Z'));
    // 12:00 Moscow: inside.
    expect(nextOpening(at('2026-11-23T09:00:00Z'), 'Europe/Moscow', nineToNine)).toBe(at('2026-11-23T09:00:00Z'));
    // 22:30 Moscow: next opening tomorrow 09:00 local.
    expect(nextOpening(at('2026-11-23T19:30:00Z'), 'Europe/Moscow', nineToNine)).toBe(at('2026-11-24T06:00:00Z'));
    // Same instant, Vladivostok (UTC+10) is at 05:30 next day: opens 09:00 local = 23:00Z.
    expect(nextOpening(at('2026-11-23T19:30:00Z'), 'Asia/Vladivostok', nineToNine)).toBe(at('2026-11-23T23:00:00Z'));
    // No window: now.
    expect(nextOpening(at('2026-11-23T19:30:00Z'), 'UTC', null)).toBe(at('2026-11-23T19:30:00Z'));
  });

  it('should parse HH:MM and refuse anything else', () => {
    expect(parseTimeOfDay('09:30')).toBe(570);
    expect(parseTimeOfDay('23:59')).toBe(1439);
    for (const bad of ['24:00', '9:30', '09:60', 'nine', '']) expect(parseTimeOfDay(bad)).toBeUndefined();
  });
});

describe('retry backoff', () => {
  it('should retry first within the base delay, grow exponentially and stop at the cap', () => {
    expect(retryDelay(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelay(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelay(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(retryDelay(30, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

describe('gateway outcomes', () => {
  it.each([
    [200, '{"code":0,"message":"OK"}', 'sent'],
    [200, '<html>oops</html>', 'retryable'],
    [200, '{"message":"OK"}', 'retryable'],
    [200, '{"code":5,"message":"busy"}', 'retryable'],
    [400, 'bad phone', 'rejected'],
    [404, '', 'rejected'],
    [401, '', 'unauthorized'],
    [403, '', 'unauthorized'],
    [429, '', 'throttled'],
    [408, '', 'retryable'],
    [500, '', 'retryable'],
    [503, '', 'retryable'],
  ])('should map %i %s to %s', (status, body, kind) => {
    expect(classifyResponse(status, body, undefined).kind).toBe(kind);
  });

  it('should read Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 10:00:05 GMT', at('2026-11-23T10:00:00Z'))).toBe(5000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(classifyResponse(429, '', '2')).toEqual({ kind: 'throttled', error: '429: too many requests', retryAfterMs: 2000 });
  });
});

describe("bounded queue (a subscriber's backlog)", () => {
  it('should keep at most its capacity, dropping the oldest, and tell once that it drops', async () => {
    const { BoundedQueue } = await import('../../src/live/bounded-queue');
    let told = 0;
    const queue = new BoundedQueue<number>(3, () => {}, () => told++);
    for (let i = 1; i <= 10; i++) queue.push(i);
    expect(queue.dropped).toBe(7);
    expect(told).toBe(1);
    queue.end();
    const seen: number[] = [];
    for await (const item of queue) seen.push(item);
    expect(seen).toEqual([8, 9, 10]);
  });

  it('should hand a waiting reader the next item at once', async () => {
    const { BoundedQueue } = await import('../../src/live/bounded-queue');
    const queue = new BoundedQueue<string>(1);
    const next = queue.next();
    queue.push('a');
    expect(await next).toEqual({ value: 'a', done: false });
    queue.push('b');
    queue.push('c'); // latest only
    expect(await queue.next()).toEqual({ value: 'c', done: false });
  });
});
