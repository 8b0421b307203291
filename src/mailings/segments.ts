/**
 * How an SMS gateway bills a text: in GSM-7 when every character is in the GSM 03.38
 * alphabet (those of its extension table count twice: an escape and the character), else in
 * UCS-2 (UTF-16 code units, so an emoji counts twice). One part holds 160 septets or 70
 * units; a longer text is split into parts of 153 or 67 (the rest is the header that joins
 * them), never inside a character (splitText).
 */
export type Encoding = 'GSM_7' | 'UCS_2';
export type Segments = { encoding: Encoding; characters: number; parts: number; charactersLeft: number };

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';
const basic = new Set(GSM_BASIC);
const extension = new Set(GSM_EXTENSION);

/** Septets of one GSM-7 character (2 for the extension table), or 0 when it is not in the alphabet. */
function septetsOf(ch: string): number {
  return basic.has(ch) ? 1 : extension.has(ch) ? 2 : 0;
}

function encodingOf(text: string): { encoding: Encoding; characters: number } {
  let septets = 0;
  for (const ch of text) {
    const size = septetsOf(ch);
    if (size === 0) return { encoding: 'UCS_2', characters: text.length };
    septets += size;
  }
  return { encoding: 'GSM_7', characters: septets };
}

/**
 * A text as it goes out in parts: one part as it is; a longer one in parts of 153 septets
 * (GSM-7) or 67 code units (UCS-2). A character of the GSM extension table (an escape and
 * the character, 2 septets) is never split across parts, nor is a surrogate pair (an emoji),
 * since a handset would show a broken character: so a part may hold one septet or unit less
 * than it could. This split is the count of parts too (segmentsOf), so that what Herald
 * says a text costs is what goes on the wire (providers/smpp.parts.ts sends these parts).
 */
export function splitText(text: string): { encoding: Encoding; parts: string[] } {
  const { encoding, characters } = encodingOf(text);
  if (characters <= (encoding === 'GSM_7' ? 160 : 70)) return { encoding, parts: [text] };
  return { encoding, parts: encoding === 'GSM_7' ? splitGsm(text) : splitUcs2(text) };
}

export function segmentsOf(text: string): Segments {
  const { encoding, characters } = encodingOf(text);
  const [single, multi] = encoding === 'GSM_7' ? [160, 153] : [70, 67];
  if (characters === 0) return { encoding, characters, parts: 0, charactersLeft: single };
  if (characters <= single) return { encoding, characters, parts: 1, charactersLeft: single - characters };
  const split = splitText(text).parts;
  const last = split[split.length - 1];
  const lastSize = encoding === 'GSM_7' ? encodingOf(last).characters : last.length;
  // Room in the last part: what a split part holds, less what the last one carries.
  return { encoding, characters, parts: split.length, charactersLeft: multi - lastSize };
}

function splitGsm(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let septets = 0;
  for (let i = 0; i < text.length; i++) {
    // Every GSM character is one UTF-16 unit.
    const size = septetsOf(text[i]);
    if (septets + size > 153) {
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
    let end = Math.min(text.length, start + 67);
    const last = text.charCodeAt(end - 1);
    // A high surrogate as the last unit of a part would split its pair: it starts the next part.
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts;
}
