/**
 * Russian mobile numbers as people and SMSCs write them, read into the form Herald keeps
 * (7 and 10 digits): the one reading behind the CSV import and the console's client form
 * (clients/client.csv.ts), replies by SMS (inbound/inbound.keywords.ts) and SMPP source
 * addresses (providers/smpp.receipt.ts). The console bundles it: it imports nothing.
 */

/**
 * `+7 916 555-44-33`, `8 (916) 555-44-33`, `89165554433`, `79165554433` (and, with
 * `tenDigits`, `9165554433`) give `79165554433`; null for anything else: another country's
 * `+…`, `+8…`, other lengths, letters.
 */
export function russianMobileOf(written: string, opts: { tenDigits?: boolean } = {}): string | null {
  const trimmed = written.trim();
  if (!/^\+?[0-9][0-9\s().-]*$/.test(trimmed)) return null;
  const international = trimmed.startsWith('+');
  const digits = trimmed.replace(/[^0-9]/g, '');
  if (digits.length === 11 && (digits[0] === '7' || (digits[0] === '8' && !international))) return `7${digits.slice(1)}`;
  if (opts.tenDigits && digits.length === 10 && digits[0] === '9' && !international) return `7${digits}`;
  return null;
}
