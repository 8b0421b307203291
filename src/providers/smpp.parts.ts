import smpp from 'smpp';
import { splitText } from '../mailings/segments';

/** SMPP data_coding: 0 the SMSC default alphabet (GSM 03.38), 8 UCS-2 (UTF-16BE). */
export type DataCoding = 0 | 8;

/** A text as it goes out: its coding, and the text of each part (one, or concatenated parts). */
export type SmppParts = { dataCoding: DataCoding; parts: string[] };

/** the 8-bit reference of the concatenation header numbers at most 255 parts */
export const MAX_PARTS = 255;

/**
 * A text in the parts Herald counts for it (mailings/segments.ts splitText: the count the
 * console shows is what goes on the wire), with its data_coding: GSM-7 as 0, anything else
 * UCS-2 as 8. Each part of a longer text carries a 6-byte concatenation header.
 */
export function splitForSmpp(text: string): SmppParts {
  const { encoding, parts } = splitText(text);
  return { dataCoding: encoding === 'GSM_7' ? 0 : 8, parts };
}

/** A text as it goes out on the wire: its coding and each part's bytes (without a header). */
export type EncodedParts = { dataCoding: DataCoding; parts: Buffer[] };

const ENCODED_KEPT = 1_000;
const encoded = new Map<string, EncodedParts>();

/**
 * splitForSmpp with each part encoded by the `smpp` package's own coders (GSM 03.38 for 0,
 * UTF-16BE for 8), kept for the last texts seen: a mailing sends one text (or a few
 * personalised ones) thousands of times, and the package's GSM coder rebuilt a key list and
 * a regular expression for every message (4.5% of a worker's CPU over SMPP). The bytes are
 * what the package would have made of the same string.
 */
export function encodeForSmpp(text: string): EncodedParts {
  let found = encoded.get(text);
  if (found === undefined) {
    const { dataCoding, parts } = splitForSmpp(text);
    const coder = dataCoding === 0 ? smpp.encodings.ASCII : smpp.encodings.UCS2;
    found = { dataCoding, parts: parts.map((part) => coder.encode(part)) };
    if (encoded.size >= ENCODED_KEPT) encoded.clear();
    encoded.set(text, found);
  }
  return found;
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
