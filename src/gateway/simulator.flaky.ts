import type { GatewayBehaviour } from './simulator';

/**
 * How the built-in simulator behaves as a whole (SENDER_SIMULATOR_MODE):
 * - `steady`: answers at once and never fails (the default; what tests and the bench want);
 * - `flaky`: a gateway as a new user should meet it before a real one, so that retries, the
 *   breaker and a mailing that pauses itself all show within a minute.
 */
export const SIMULATOR_MODES = ['steady', 'flaky'] as const;
export type SimulatorMode = (typeof SIMULATOR_MODES)[number];

/** One minute of a flaky gateway, by default; shorter in tests. */
export const FLAKY_CYCLE_MS = 60_000;

/**
 * Flaky at all times: slow (0.2 to 1.5 s, one request in 50 after 5 s), one request in 6
 * answered 500 (retried), one in 20 refused with 400 (failed for good).
 */
const FLAKY_ALWAYS: Partial<GatewayBehaviour> = {
  latencyMs: [200, 1_500],
  tailRate: 0.02,
  tailMs: 5_000,
  errorRate: 0.15,
  rejectRate: 0.05,
  down: false,
};

export type FlakyPhase = { name: 'slow' | 'down' | 'refusing'; behaviour: Partial<GatewayBehaviour> };

/**
 * Where in its cycle a flaky gateway is, counted from the first request it took (the
 * simulator's start is long before a new user's first mailing). Of each cycle, in sixtieths
 * (seconds of the default minute): slow and failing now and then (0-10), down, every
 * connection refused, so that the breaker opens (10-18), slow again (18-25), refusing most
 * messages with 400 (25-35): a mailing sending then (a thousand clients take about 25 s)
 * fails more than MAX_FAILURE_RATE of its last results and pauses itself; slow (35-60).
 */
export function flakyPhase(elapsedMs: number, cycleMs = FLAKY_CYCLE_MS): FlakyPhase {
  const at = ((((elapsedMs % cycleMs) + cycleMs) % cycleMs) / cycleMs) * 60;
  if (at >= 10 && at < 18) return { name: 'down', behaviour: { ...FLAKY_ALWAYS, down: true } };
  if (at >= 25 && at < 35) return { name: 'refusing', behaviour: { ...FLAKY_ALWAYS, rejectRate: 0.8 } };
  return { name: 'slow', behaviour: FLAKY_ALWAYS };
}

/** What `steady` sets back when a flaky simulator is made steady again. */
export const STEADY: Partial<GatewayBehaviour> = { latencyMs: 0, tailRate: 0, tailMs: 0, errorRate: 0, rejectRate: 0, down: false };
