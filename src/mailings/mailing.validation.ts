import { longestRendering, parseTemplate, type Template } from './mailing.template';
import { segmentsOf, type Segments } from './segments';
import { parseTimeOfDay, type SendWindow } from './send-window';
import { InputProblems, UserInputError } from '../common/errors';
import { refuseControlCharacters } from '../common/text';

export const MAX_TEXT_LENGTH = 1000;

/**
 * A text as Herald bills it: trimmed, at most MAX_TEXT_LENGTH, its placeholders known and
 * well formed (each refusal a BAD_USER_INPUT on `field`), and its segments with every
 * placeholder at its longest value. Not judged against MAX_SEGMENTS: see validateTemplate.
 */
export function measureTemplate(text: string, field = 'text'): { text: string; template: Template; segments: Segments } {
  const trimmed = refuseControlCharacters(text, field, { multiline: true }).trim();
  if (trimmed.length > MAX_TEXT_LENGTH) throw new UserInputError(field, `must be at most ${MAX_TEXT_LENGTH} characters`);
  const template = parseTemplate(trimmed, field);
  return { text: trimmed, template, segments: segmentsOf(longestRendering(template)) };
}

/**
 * A mailing's text, measured (measureTemplate), non-empty, and billed as at most
 * `maxSegments` parts however long its placeholders' values.
 */
export function validateTemplate(text: string, maxSegments: number, field = 'text'): { text: string; template: Template; segments: Segments } {
  const measured = measureTemplate(text, field);
  if (measured.text === '') throw new UserInputError(field, 'must not be empty');
  const { encoding, characters, parts } = measured.segments;
  if (parts > maxSegments) {
    throw new UserInputError(field, `would be billed as up to ${parts} SMS (${characters} ${encoding === 'GSM_7' ? 'GSM-7' : 'UCS-2'} characters at its placeholders' longest); at most ${maxSegments} are allowed`);
  }
  return measured;
}

/** validateTemplate's text, for where only the text is kept. */
export const validateText = (text: string, maxSegments: number, field = 'text'): string => validateTemplate(text, maxSegments, field).text;

export const MAX_NAME_LENGTH = 100;

/** A mailing's optional label: trimmed, short; empty means none. */
export function validateMailingName(name: string, field = 'name'): string | null {
  const trimmed = refuseControlCharacters(name, field).trim();
  if (trimmed === '') return null;
  if (trimmed.length > MAX_NAME_LENGTH) throw new UserInputError(field, `must be at most ${MAX_NAME_LENGTH} characters`);
  return trimmed;
}

// Stored as a PostgreSQL real: 5e-160 underflowed it (a failed statement). Judged over the
// last 200 results, any rate below 1/200 already means "pause at the first failure".
const MIN_FAILURE_RATE = 0.001;

export function validateFailureRate(rate: number, field = 'maxFailureRate'): number {
  if (!(rate >= MIN_FAILURE_RATE && rate <= 1)) throw new UserInputError(field, `must be at least ${MIN_FAILURE_RATE} and at most 1`);
  return rate;
}

// What PostgreSQL's timestamptz and a mailing's period can hold sensibly: it has no year 0
// (a DateTime of 0000-01-01 reached it as a failed statement) and no year past 294276.
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A point in time between 1970 and the end of 9999. */
export function validateInstant(at: Date, field: string): Date {
  const ms = at.getTime();
  if (!(ms >= EARLIEST && ms <= LATEST)) throw new UserInputError(field, 'must be between 1970-01-01 and 9999-12-31');
  return at;
}

/** The nearest point in time validateInstant accepts. */
export function clampInstant(at: Date): Date {
  return new Date(Math.min(LATEST, Math.max(EARLIEST, at.getTime())));
}

/** A mailing's period: endAt after startAt, and endAt still ahead (else it could never run); both fields' problems at once. */
export function validatePeriod(startAt: Date, endAt: Date, now: Date, problems?: InputProblems): void {
  const own = problems ?? new InputProblems();
  own.check(() => validateInstant(startAt, 'startAt'));
  own.check(() => validateInstant(endAt, 'endAt'));
  if (!own.has('startAt') && !own.has('endAt') && endAt.getTime() <= startAt.getTime()) own.add('endAt', 'must be after startAt');
  if (!own.has('endAt') && endAt.getTime() <= now.getTime()) own.add('endAt', 'must be in the future');
  // With the caller's problems (the input's other fields), thrown by the caller with them.
  if (!problems) own.done();
}

/** `{ from: "09:00", to: "21:00" }` in the client's local time; may wrap midnight. */
export function validateSendWindow(input: { from: string; to: string }, field = 'sendWindow'): SendWindow {
  const fromMinute = parseTimeOfDay(input.from);
  if (fromMinute === undefined) throw new UserInputError(`${field}.from`, 'must be a time of day as HH:MM, e.g. 09:00');
  const toMinute = parseTimeOfDay(input.to);
  if (toMinute === undefined) throw new UserInputError(`${field}.to`, 'must be a time of day as HH:MM, e.g. 21:00');
  if (fromMinute === toMinute) throw new UserInputError(`${field}.to`, 'must differ from sendWindow.from');
  return { fromMinute, toMinute };
}
