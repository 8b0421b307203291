/**
 * How an SMS gateway bills a text: in GSM-7 when every character is in the GSM 03.38
 * alphabet (those of its extension table count twice: an escape and the character), else in
 * UCS-2 (UTF-16 code units, so an emoji counts twice). One part holds 160 septets or 70
 * units; a longer text is split into parts of 153 or 67 (the rest is the header that joins
 * them).
 */
export type Encoding = 'GSM_7' | 'UCS_2';
export type Segments = { encoding: Encoding; characters: number; parts: number; charactersLeft: number };

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';
const basic = new Set(GSM_BASIC);
const extension = new Set(GSM_EXTENSION);

export function segmentsOf(text: string): Segments {
  let septets = 0;
  for (const ch of text) {
    if (basic.has(ch)) septets += 1;
    else if (extension.has(ch)) septets += 2;
    else return parts('UCS_2', text.length, 70, 67);
  }
  return parts('GSM_7', septets, 160, 153);
}

function parts(encoding: Encoding, characters: number, single: number, multi: number): Segments {
  const count = characters === 0 ? 0 : characters <= single ? 1 : Math.ceil(characters / multi);
  // Room in the last part: up to one part it is the single-part size, beyond it whole split parts.
  const charactersLeft = count <= 1 ? single - characters : count * multi - characters;
  return { encoding, characters, parts: count, charactersLeft };
}
