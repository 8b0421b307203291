import { parseTimeOfDay, type SendWindow } from './send-window';
import { UserInputError } from '../common/errors';

export const MAX_TEXT_LENGTH = 1000;

export function validateText(text: string, field = 'text'): string {
  const trimmed = text.trim();
  if (trimmed === '') throw new UserInputError(field, 'must not be empty');
  if (trimmed.length > MAX_TEXT_LENGTH) throw new UserInputError(field, `must be at most ${MAX_TEXT_LENGTH} characters`);
  return trimmed;
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
