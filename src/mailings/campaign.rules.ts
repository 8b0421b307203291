import type { FrequencyCap } from './frequency-cap';

/** The campaign rules configured for every mailing (config: MAX_SEGMENTS, FREQUENCY_CAP, MAX_FAILURE_RATE). */
export type CampaignRules = {
  /** texts billed as more parts than this are refused */
  maxSegments: number;
  /** the cap for mailings without one of their own; null: none */
  frequencyCap: FrequencyCap | null;
  /** a mailing whose last results fail more than this pauses itself, unless it has its own */
  maxFailureRate: number;
};

/** How many of its last results a mailing's failure rate is judged over, and the fewest judged. */
export const FAILURE_WINDOW = 200;
export const FAILURE_MIN_RESULTS = 20;

/** The cap a mailing sends under: its own (mailing.values' frequencyCapOf), else the configured one. */
export function capOf(own: FrequencyCap | null, rules: CampaignRules): FrequencyCap | null {
  return own ?? rules.frequencyCap;
}

/** The failure rate past which a mailing pauses itself: its own, else the configured one. */
export function maxFailureRateOf(mailing: { maxFailureRate: number | null }, rules: CampaignRules): number {
  return mailing.maxFailureRate ?? rules.maxFailureRate;
}
