/**
 * A daily window in the client's local time, in minutes since local midnight. `from > to`
 * wraps midnight (22:00–06:00). Messages are sent only inside it.
 */
export type SendWindow = { fromMinute: number; toMinute: number };

const DAY_SECONDS = 24 * 60 * 60;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formatters.set(timezone, f);
  }
  return f;
}

/** Seconds since local midnight in `timezone` at instant `at` (ms). */
export function localSecondOfDay(at: number, timezone: string): number {
  let h = 0;
  let m = 0;
  let s = 0;
  for (const part of formatter(timezone).formatToParts(at)) {
    if (part.type === 'hour') h = Number(part.value);
    else if (part.type === 'minute') m = Number(part.value);
    else if (part.type === 'second') s = Number(part.value);
  }
  return h * 3600 + m * 60 + s;
}

export function isInside(window: SendWindow, minuteOfDay: number): boolean {
  const { fromMinute: from, toMinute: to } = window;
  return from < to ? minuteOfDay >= from && minuteOfDay < to : minuteOfDay >= from || minuteOfDay < to;
}

/**
 * When a message to a client in `timezone` may be sent, at or after `now` (ms): `now` itself
 * inside the window, else the window's next opening. Computed from the current UTC offset,
 * so an opening right after a daylight-saving change may be off by that change.
 */
export function nextOpening(now: number, timezone: string, window: SendWindow | null): number {
  if (!window) return now;
  const second = localSecondOfDay(now, timezone);
  if (isInside(window, Math.floor(second / 60))) return now;
  const wait = (window.fromMinute * 60 - second + DAY_SECONDS) % DAY_SECONDS;
  return now + wait * 1000 - (now % 1000);
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** "09:30" → 570, or undefined when not HH:MM. */
export function parseTimeOfDay(text: string): number | undefined {
  const match = HH_MM.exec(text.trim());
  return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

export function formatTimeOfDay(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}
