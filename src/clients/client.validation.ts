import { UserInputError } from '../common/errors';
import { refuseControlCharacters } from '../common/text';
import { ATTRIBUTE_KEY, MAX_VALUE_LENGTH } from '../mailings/mailing.template';

export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 32;
export const MAX_FILTER_OPERATOR_CODES = 100;

const PHONE = /^7[0-9]{10}$/;
const OPERATOR_CODE = /^[0-9]{3}$/;
// IANA names are Area/Location (or a bare name such as UTC); this rules out offsets such as
// "+03:00" that Intl would also accept but that are not zones with their own rules.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

export function validatePhone(phone: string, field = 'phone'): string {
  if (!PHONE.test(phone)) throw new UserInputError(field, 'must be 7 followed by 10 digits, e.g. 79161234567');
  return phone;
}

/** Digits a phone contains, as searched for; null for an empty search (everyone). */
export function validatePhoneSearch(search: string, field = 'phone'): string | null {
  const digits = search.trim();
  if (digits === '') return null;
  if (!/^[0-9]{1,11}$/.test(digits)) throw new UserInputError(field, 'must be up to 11 digits of a phone');
  return digits;
}

/** The operator code a phone implies: its digits 2–4 (7 916 1234567 → 916). */
export function operatorCodeOf(phone: string): string {
  return phone.slice(1, 4);
}

export function validateOperatorCode(code: string, field = 'operatorCode'): string {
  if (!OPERATOR_CODE.test(code)) throw new UserInputError(field, 'must be exactly 3 digits');
  return code;
}

/** Trimmed, non-empty, short, deduplicated (first occurrence kept) and few. */
export function normalizeTags(tags: readonly string[], field = 'tags'): string[] {
  const seen = new Set<string>();
  for (const raw of tags) {
    const tag = refuseControlCharacters(raw, field).trim();
    if (tag === '') throw new UserInputError(field, 'a tag must not be empty');
    if (tag.length > MAX_TAG_LENGTH) throw new UserInputError(field, `a tag must be at most ${MAX_TAG_LENGTH} characters`);
    seen.add(tag);
  }
  if (seen.size > MAX_TAGS) throw new UserInputError(field, `at most ${MAX_TAGS} distinct tags`);
  return [...seen];
}

// Resolved names by what was given: an import of a million clients names few zones.
const resolvedZones = new Map<string, string | null>();

export function validateTimezone(timezone: string, field = 'timezone'): string {
  const name = timezone.trim();
  let resolved = resolvedZones.get(name);
  if (resolved === undefined) {
    resolved = null;
    if (IANA_NAME.test(name)) {
      try {
        // Stored in the spelling Intl resolves it to ("europe/moscow" → "Europe/Moscow").
        resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
      } catch {
        // not a zone Intl knows
      }
    }
    if (resolvedZones.size < 10_000) resolvedZones.set(name, resolved);
  }
  if (resolved === null) {
    const closest = closestZone(name);
    throw new UserInputError(
      field,
      closest ? `unknown time zone "${name}"; did you mean "${closest}"?` : 'must be an IANA time zone name, e.g. Europe/Moscow',
    );
  }
  return resolved;
}

let zoneNames: string[] | undefined;

/**
 * The IANA name nearest to a mistyped one (Europe/Moskow → Europe/Moscow), by edit distance
 * ignoring case, when it is near enough to be a typo (at most a third of the name's letters
 * apart); else none. Only asked once a name is refused.
 */
export function closestZone(name: string): string | null {
  zoneNames ??= [...Intl.supportedValuesOf('timeZone'), 'UTC'];
  const wanted = name.toLowerCase().slice(0, 64);
  if (wanted === '') return null;
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(wanted.length / 3)) + 1;
  for (const zone of zoneNames) {
    const d = editDistance(wanted, zone.toLowerCase(), bestDistance);
    if (d < bestDistance) [best, bestDistance] = [zone, d];
  }
  return best;
}

/** Levenshtein distance of a and b, or `limit` once it is known to be at least that. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowBest = i;
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowBest = Math.min(rowBest, current[j]);
    }
    if (rowBest >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length], limit);
}

export function normalizeOperatorCodes(codes: readonly string[], field: string): string[] {
  const unique = [...new Set(codes.map((c) => validateOperatorCode(c.trim(), field)))];
  if (unique.length > MAX_FILTER_OPERATOR_CODES) {
    throw new UserInputError(field, `at most ${MAX_FILTER_OPERATOR_CODES} operator codes`);
  }
  return unique;
}

export const MAX_ATTRIBUTES = 20;

/** A client's name for personalised texts: trimmed, at most MAX_VALUE_LENGTH; empty means none. */
export function validateName(name: string, field = 'name'): string | null {
  const trimmed = refuseControlCharacters(name, field).trim();
  if (trimmed === '') return null;
  if (trimmed.length > MAX_VALUE_LENGTH) throw new UserInputError(field, `must be at most ${MAX_VALUE_LENGTH} characters`);
  return trimmed;
}

/** A client's attributes: an object of at most MAX_ATTRIBUTES short strings under simple keys. */
export function validateAttributes(value: unknown, field = 'attributes'): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserInputError(field, 'must be an object of strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_ATTRIBUTES) throw new UserInputError(field, `at most ${MAX_ATTRIBUTES} attributes`);
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    if (!ATTRIBUTE_KEY.test(key)) throw new UserInputError(`${field}.${key.slice(0, 40)}`, 'keys are 1 to 32 letters, digits or _');
    if (typeof v !== 'string') throw new UserInputError(`${field}.${key}`, 'must be a string');
    refuseControlCharacters(v, `${field}.${key}`);
    if (v.length > MAX_VALUE_LENGTH) throw new UserInputError(`${field}.${key}`, `must be at most ${MAX_VALUE_LENGTH} characters`);
    out[key] = v;
  }
  return out;
}
