const integer = new Intl.NumberFormat();

export const count = (n: number) => integer.format(n);

export const percent = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 1000) / 10);

/** A share 0–1 as "96.3%"; "—" while there is none (no receipt yet). */
export const rate = (share: number | null | undefined) => (share === null || share === undefined ? '—' : `${(share * 100).toFixed(1)}%`);

/** The operator's own time zone, in which the console shows and takes times. */
export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const when = (iso: string) => dateTime.format(new Date(iso));

const timeOfDay = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
export const clock = (ms: number) => timeOfDay.format(new Date(ms));

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 1) return 'done';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A Date as the value of an <input type="datetime-local">, in the operator's time zone. */
export function toLocalInput(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** An <input type="datetime-local"> value (local time) as the instant Herald takes. */
export function fromLocalInput(value: string): string | null {
  const date = new Date(value);
  return value === '' || Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** "916, 903 926" → ["916", "903", "926"] */
export const listOf = (text: string) => text.split(/[\s,;]+/).filter((item) => item !== '');
