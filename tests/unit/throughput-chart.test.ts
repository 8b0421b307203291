import { describe, expect, it } from 'vitest';
import { chartSamples } from '../../console/src/throughput';

/** The console's throughput line (issue 20, item 2): the mailing's span, smoothed to be read. */
describe('chartSamples', () => {
  const t0 = Date.parse('2026-12-03T10:00:00Z');
  const buckets = (rates: number[], seconds = 1) => rates.map((perSecond, i) => ({ at: new Date(t0 + i * seconds * 1000).toISOString(), perSecond }));

  it('should draw one bucket (a mailing that took 0.6 s) over its own second, not up to now', () => {
    expect(chartSamples(1, buckets([30]))).toEqual([
      { at: t0, rate: 30 },
      { at: t0 + 500, rate: 30 },
      { at: t0 + 1000, rate: 30 },
    ]);
  });

  it('should span the first bucket start to the last bucket end', () => {
    const line = chartSamples(2, buckets([5, 6, 7, 8], 2));
    expect(line[0].at).toBe(t0);
    expect(line.at(-1)!.at).toBe(t0 + 8_000);
  });

  it('should smooth the 0↔50 sawtooth of 1 s buckets at 2 s gateway latency', () => {
    // Two minutes: results arrive in waves every 2 s.
    const rates = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? 0 : 50));
    const inner = chartSamples(1, buckets(rates)).slice(3, -3).map((s) => s.rate);
    // The raw buckets swing by 50; the line stays within a few msg/s of the mean rate (25).
    expect(Math.max(...inner) - Math.min(...inner)).toBeLessThan(10);
    expect(Math.abs(inner.reduce((a, b) => a + b, 0) / inner.length - 25)).toBeLessThan(2);
  });

  it('should keep the shape of a mailing that took seconds (a window of a quarter of its span at most)', () => {
    const rates = [10, 10, 10, 40, 40, 40];
    const line = chartSamples(1, buckets(rates)).map((s) => s.rate);
    // The step stays, eased over one bucket each side.
    expect(line).toEqual([10, 10, 10, 20, 30, 40, 40, 40]);
  });
});
