/**
 * A Russian mobile number as people type it (+7 916 555-44-33, 8 (916) 555-44-33,
 * 89165554433, 9165554433) in the form Herald keeps, 7XXXXXXXXXX; anything else as typed, for
 * the API to refuse with its own words. The CSV import does the same on the server
 * (src/clients/client.validation.ts, normalizeTypedPhone).
 */
export function normalizePhone(typed: string): string {
  const trimmed = typed.trim();
  if (!/^\+?[0-9\s()\-.]+$/.test(trimmed)) return trimmed;
  const digits = trimmed.replace(/[^0-9]/g, '');
  if (digits.length === 11 && (digits[0] === '7' || digits[0] === '8')) return `7${digits.slice(1)}`;
  if (digits.length === 10 && digits[0] === '9' && !trimmed.startsWith('+')) return `7${digits}`;
  return trimmed;
}
