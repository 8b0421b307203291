import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../src/db/connection';
import { migrateDatabase } from '../src/db/migrate';
import { createLogger } from '../src/logger';
import { SharedRate, VALIDITY_MS } from '../src/providers/provider-rate';
import { createTestDatabase } from './support/herald';
import { startTcpProxy } from './support/tcp-proxy';

/**
 * A provider's parts-per-second limit held by several worker processes together: each
 * SharedRate here has a pool of its own, as a worker would, and takes parts as fast as it
 * can; every part taken is stamped on the local clock, and no sliding second may hold more
 * than the bound of provider-rate.ts, r * (1 + V) + k, while the total must come near r.
 */

let database: { url: string; drop: () => Promise<void> };
const pools: Database[] = [];
const rates: SharedRate[] = [];
const log = createLogger('silent');

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateDatabase(database.url);
});
afterAll(async () => {
  await Promise.all(rates.map((r) => r.stop()));
  await Promise.all(pools.map((p) => p.close()));
  await database?.drop();
});

/** A worker's pool and its SharedRate for `provider`. */
function worker(provider: string, partsPerSecond: number, url = database.url): SharedRate {
  const pool = connectDatabase(url, { max: 2, name: 'herald-test-rate' });
  pools.push(pool);
  const rate = new SharedRate(pool.db, { provider, partsPerSecond, log });
  rate.start();
  rates.push(rate);
  return rate;
}

/**
 * Takes parts through `rate` as fast as it can until `until`: a message of `partsOf()` parts
 * at a time, tried again after waitMs until it goes. One stamp per part, at the take's `now`.
 */
function sendAsFastAsPossible(rate: SharedRate, until: number, partsOf: () => number): Promise<number[]> {
  return new Promise((resolve) => {
    const stamps: number[] = [];
    let parts = partsOf();
    const step = () => {
      const now = Date.now();
      if (now >= until) return resolve(stamps);
      if (rate.tryTake(parts, now)) {
        for (let i = 0; i < parts; i++) stamps.push(now);
        parts = partsOf();
        return void setImmediate(step);
      }
      setTimeout(step, Math.min(rate.waitMs(now), 20));
    };
    step();
  });
}

/** The most stamps in any window [t, t + 1000 ms). */
function maxPerSlidingSecond(stamps: number[]): number {
  const sorted = [...stamps].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j] < sorted[i] + 1000) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

const one = () => 1;
const two = () => 2;
const oneOrTwo = () => (Math.random() < 0.5 ? 1 : 2);

describe('a provider rate shared by worker processes through PostgreSQL', () => {
  it('should hold 20 parts/s for two workers together: at most 22 in any sliding second, and not starve', async () => {
    const a = worker('alpha', 20);
    const b = worker('alpha', 20);
    const until = Date.now() + 4_000;
    const [sa, sb] = await Promise.all([sendAsFastAsPossible(a, until, one), sendAsFastAsPossible(b, until, two)]);
    const all = [...sa, ...sb];
    const figures = JSON.stringify({ a: a.stats(), b: b.stats() });
    expect(maxPerSlidingSecond(all), figures).toBeLessThanOrEqual(22);
    expect(all.length, figures).toBeGreaterThanOrEqual(0.85 * 20 * 4);
    // Both workers get their turn.
    expect(sa.length).toBeGreaterThan(0.2 * 20 * 4);
    expect(sb.length).toBeGreaterThan(0.2 * 20 * 4);
  });

  it('should hold 200 parts/s for two workers together: at most 220 in any sliding second, and not starve', async () => {
    const a = worker('bravo', 200);
    const b = worker('bravo', 200);
    const until = Date.now() + 4_000;
    const [sa, sb] = await Promise.all([sendAsFastAsPossible(a, until, oneOrTwo), sendAsFastAsPossible(b, until, oneOrTwo)]);
    const all = [...sa, ...sb];
    const figures = JSON.stringify({ a: a.stats(), b: b.stats() });
    expect(maxPerSlidingSecond(all), figures).toBeLessThanOrEqual(220);
    expect(all.length, figures).toBeGreaterThanOrEqual(0.85 * 200 * 4);
    expect(sa.length).toBeGreaterThan(0.2 * 200 * 4);
    expect(sb.length).toBeGreaterThan(0.2 * 200 * 4);
  });

  it('should leave another provider its own budget while two workers use up theirs', async () => {
    const a = worker('charlie', 20);
    const b = worker('charlie', 20);
    const other = worker('delta', 20);
    const until = Date.now() + 4_000;
    const [sa, sb, so] = await Promise.all([
      sendAsFastAsPossible(a, until, oneOrTwo),
      sendAsFastAsPossible(b, until, oneOrTwo),
      sendAsFastAsPossible(other, until, one),
    ]);
    expect(maxPerSlidingSecond([...sa, ...sb])).toBeLessThanOrEqual(22);
    expect(maxPerSlidingSecond(so)).toBeLessThanOrEqual(21);
    expect(so.length).toBeGreaterThanOrEqual(0.85 * 20 * 4);
  });

  it('should keep its pace across bursts separated by idle pauses, reserving nothing while idle', async () => {
    const r = 50;
    const a = worker('echo', r);
    const b = worker('echo', r);
    const all: number[] = [];
    for (let burst = 0; burst < 3; burst++) {
      const until = Date.now() + 2_000;
      const [sa, sb] = await Promise.all([sendAsFastAsPossible(a, until, oneOrTwo), sendAsFastAsPossible(b, until, one)]);
      expect(sa.length + sb.length, JSON.stringify({ burst, a: a.stats(), b: b.stats() })).toBeGreaterThanOrEqual(0.85 * r * 2);
      all.push(...sa, ...sb);
      // Idle: after the reservations already asked for land, nothing more is reserved.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const reserved = a.stats().reserved + b.stats().reserved;
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(a.stats().reserved + b.stats().reserved).toBe(reserved);
    }
    // Across the pauses too: an idle pause earns no burst beyond the bound (chunks of 3, or
    // 4 in two-part messages, here).
    expect(maxPerSlidingSecond(all)).toBeLessThanOrEqual(r * (1 + VALIDITY_MS / 1000) + 4);
  });

  it('should send nothing and throw nothing while the database is away, log it once, and carry on when it is back', async () => {
    const target = new URL(database.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const lines: Record<string, any>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const pool = connectDatabase(proxy.urlThrough(database.url), { max: 1, connectTimeoutMs: 500 });
    const rate = new SharedRate(pool.db, { provider: 'foxtrot', partsPerSecond: 100, log: createLogger('info', sink) });
    rate.start();
    try {
      let until = Date.now() + 500;
      expect((await sendAsFastAsPossible(rate, until, one)).length).toBeGreaterThan(0);

      proxy.pause(); // no answers at all: each reservation is given up after a second
      // What was granted before (up to the horizon ahead) has been used or has expired.
      await new Promise((resolve) => setTimeout(resolve, 500));
      until = Date.now() + 2_500;
      const during = await sendAsFastAsPossible(rate, until, one);
      expect(during).toEqual([]);
      expect(rate.available()).toBe(0);
      const away = lines.filter((l) => l.msg.startsWith('provider rate: no reservation'));
      expect(away.length).toBe(1);
      expect(away[0]).toMatchObject({ level: 40, provider: 'foxtrot' });

      proxy.cut(); // and then refused outright
      until = Date.now() + 500;
      expect(await sendAsFastAsPossible(rate, until, one)).toEqual([]);

      proxy.restore();
      until = Date.now() + 3_000;
      const after = await sendAsFastAsPossible(rate, until, one);
      expect(after.length).toBeGreaterThan(0);
      expect(lines.some((l) => l.msg === 'provider rate: the database answers reservations again' && l.provider === 'foxtrot')).toBe(true);
    } finally {
      await rate.stop();
      await pool.close();
      await proxy.stop();
    }
  });
});
