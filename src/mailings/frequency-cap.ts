import { UserInputError } from '../common/errors';

/** At most `count` messages to one client within `windowS` seconds, across mailings. */
export type FrequencyCap = { count: number; windowS: number };

const CAP = /^\s*(\d{1,4})\s*\/\s*(\d{1,6})\s*([smhd])\s*$/;
const UNIT_S = { s: 1, m: 60, h: 3600, d: 86400 } as const;
const MAX_WINDOW_S = 366 * 86400;

/** "2/24h" (units s, m, h, d) → { count: 2, windowS: 86400 }; undefined when not of that form. */
export function parseFrequencyCap(text: string): FrequencyCap | undefined {
  const match = CAP.exec(text);
  if (!match) return undefined;
  const count = Number(match[1]);
  const windowS = Number(match[2]) * UNIT_S[match[3] as keyof typeof UNIT_S];
  if (count < 1 || windowS < 1 || windowS > MAX_WINDOW_S) return undefined;
  return { count, windowS };
}

export function validateFrequencyCap(text: string, field = 'frequencyCap'): FrequencyCap {
  const cap = parseFrequencyCap(text);
  if (!cap) throw new UserInputError(field, 'must be a count per window such as 2/24h (units s, m, h, d; at most a year)');
  return cap;
}

export function formatFrequencyCap(cap: FrequencyCap): string {
  for (const [unit, seconds] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (cap.windowS % seconds === 0) return `${cap.count}/${cap.windowS / seconds}${unit}`;
  }
  return `${cap.count}/${cap.windowS}s`;
}
