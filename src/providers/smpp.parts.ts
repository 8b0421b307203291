import { segmentsOf } from '../mailings/segments';

/** SMPP data_coding: 0 the SMSC default alphabet (GSM 03.38), 8 UCS-2 (UTF-16BE). */
export type DataCoding = 0 | 8;

/** A text as it goes out: its coding, and the text of each part (one, or concatenated parts). */
export type SmppParts = { dataCoding: DataCoding; parts: string[] };

/** what a part with a concatenation header holds: septets (GSM-7) or UTF-16 code units (UCS-2) */
const GSM_PER_PART = 153;
const UCS2_PER_PART = 67;
/** the 8-bit reference of the concatenation header numbers at most 255 parts */
export const MAX_PARTS = 255;

/**
 * Splits a text as Herald bills it (mailings/segments.ts decides the coding and whether it
 * fits one part): a single part goes as it is; a longer text in parts of 153 septets (GSM-7)
 * or 67 code units (UCS-2), each carrying a 6-byte concatenation header. A character of the
 * GSM extension table (an escape and the character, 2 septets) is never split across
 * parts, nor is a surrogate pair (an emoji), since a handset would show a broken character.
 * So a part may hold one septet or unit less than it could, and a text where that happens
 * at a boundary can need one part more than segmentsOf counts (the count is plain
 * arithmetic): the split is what goes on the wire.
 */
export function splitForSmpp(text: string): SmppParts {
  const segments = segmentsOf(text);
  const dataCoding: DataCoding = segments.encoding === 'GSM_7' ? 0 : 8;
  if (segments.parts <= 1) return { dataCoding, parts: [text] };
  return { dataCoding, parts: dataCoding === 0 ? splitGsm(text) : splitUcs2(text) };
}

function splitGsm(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let septets = 0;
  for (let i = 0; i < text.length; i++) {
    // Every GSM character is one UTF-16 unit; segmentsOf says whether it is 1 or 2 septets.
    const size = segmentsOf(text[i]).characters;
    if (septets + size > GSM_PER_PART) {
      parts.push(text.slice(start, i));
      start = i;
      septets = 0;
    }
    septets += size;
  }
  parts.push(text.slice(start));
  return parts;
}

function splitUcs2(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + UCS2_PER_PART);
    const last = text.charCodeAt(end - 1);
    // A high surrogate as the last unit of a part would split its pair: it starts the next part.
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts;
}

/** The user data header of one concatenated part: IEI 0x00 (8-bit reference), `05 00 03 ref total seq`. */
export function concatenationHeader(reference: number, total: number, sequence: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, reference & 0xff, total, sequence]);
}

/** The concatenation IE of a decoded UDH (the `smpp` package hands each IE as `[IEI, length, …data]`). */
export function readConcatenation(udh: readonly Buffer[] | undefined): { reference: number; total: number; sequence: number } | null {
  for (const ie of udh ?? []) {
    if (ie[0] === 0x00 && ie[1] === 0x03 && ie.length >= 5) return { reference: ie[2], total: ie[3], sequence: ie[4] };
  }
  return null;
}
