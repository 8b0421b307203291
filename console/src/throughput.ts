/** A point of the throughput chart (components.tsx's Sample, kept here so that this file needs no JSX). */
export type Sample = { at: number; rate: number };

/**
 * The chart's line from Herald's buckets, from the first bucket's start to the last one's end
 * (so one bucket, a mailing that took 0.6 s, is a line over its second), as a centred moving
 * average over a window chosen from the span (a few seconds for a mailing of minutes), so
 * that results arriving in waves (a gateway answering in 2 s) read as their rate, not as a
 * 0↔50 sawtooth of 1 s buckets.
 */
export function chartSamples(bucketSeconds: number, points: { at: string; perSecond: number }[]): Sample[] {
  if (points.length === 0) return [];
  const span = points.length * bucketSeconds;
  const window = Math.min(span / 4, Math.max(4, span / 20));
  const half = Math.floor(Math.max(1, Math.round(window / bucketSeconds)) / 2);
  const smoothed = points.map((_, i) => {
    const from = Math.max(0, i - half);
    const to = Math.min(points.length - 1, i + half);
    let sum = 0;
    for (let j = from; j <= to; j++) sum += points[j].perSecond;
    return sum / (to - from + 1);
  });
  const width = bucketSeconds * 1000;
  const start = Date.parse(points[0].at);
  // Through each bucket's middle, held to the span's edges: the line covers start to completion.
  return [
    { at: start, rate: smoothed[0] },
    ...points.map((p, i) => ({ at: Date.parse(p.at) + width / 2, rate: smoothed[i] })),
    { at: Date.parse(points[points.length - 1].at) + width, rate: smoothed[smoothed.length - 1] },
  ];
}
