import { longestRendering, parseTemplate } from './mailing.template';
import { segmentsOf } from './segments';
import { parseTimeOfDay, type SendWindow } from './send-window';
import { UserInputError } from '../common/errors';
import { refuseControlCharacters } from '../common/text';

export const MAX_TEXT_LENGTH = 1000;

/**
 * A mailing's text: non-empty, at most MAX_TEXT_LENGTH, its placeholders known and well
 * formed, and billed as at most `maxSegments` parts however long its placeholders' values.
 */
export function validateText(text: string, maxSegments: number, field = 'text'): string {
  const trimmed = refuseControlCharacters(text, field, { multiline: true }).trim();
  if (trimmed === '') throw new UserInputError(field, 'must not be empty');
  if (trimmed.length > MAX_TEXT_LENGTH) throw new UserInputError(field, `must be at most ${MAX_TEXT_LENGTH} characters`);
  const { encoding, characters, parts } = segmentsOf(longestRendering(parseTemplate(trimmed, field)));
  if (parts > maxSegments) {
    throw new UserInputError(field, `would be billed as up to ${parts} SMS (${characters} ${encoding === 'GSM_7' ? 'GSM-7' : 'UCS-2'} characters at its placeholders' longest); at most ${maxSegments} are allowed`);
  }
  return trimmed;
}

export const MAX_NAME_LENGTH = 100;

/** A mailing's optional label: trimmed, short; empty means none. */
export function validateMailingName(name: string, field = 'name'): string | null {
  const trimmed = refuseControlCharacters(name, field).trim();
  if (trimmed === '') return null;
  if (trimmed.length > MAX_NAME_LENGTH) throw new UserInputError(field, `must be at most ${MAX_NAME_LENGTH} characters`);
  return trimmed;
}

export function validateFailureRate(rate: number, field = 'maxFailureRate'): number {
  if (!(rate > 0 && rate <= 1)) throw new UserInputError(field, 'must be more than 0 and at most 1');
  return rate;
}

/** A mailing's period: endAt after startAt, and endAt still ahead (else it could never run). */
export function validatePeriod(startAt: Date, endAt: Date, now: Date): void {
  if (endAt.getTime() <= startAt.getTime()) throw new UserInputError('endAt', 'must be after startAt');
  if (endAt.getTime() <= now.getTime()) throw new UserInputError('endAt', 'must be in the future');
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
