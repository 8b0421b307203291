/**
 * How an SMS gateway bills a text, measured in the browser as Herald measures it
 * (src/mailings/segments.ts and the placeholder rules of src/mailings/mailing.template.ts,
 * copied: the console shares nothing with the server but the schema). Herald stays the
 * judge: it refuses, on `text`, what it would bill as more than MAX_SEGMENTS parts.
 *
 * GSM-7 when every character is in the GSM 03.38 alphabet (those of its extension table
 * count twice: an escape and the character), else UCS-2 (UTF-16 code units, so an emoji
 * counts twice). One part holds 160 septets or 70 units; a longer text is split into parts
 * of 153 or 67 (the rest is the header that joins them).
 */
export type Encoding = 'GSM_7' | 'UCS_2';
export type Segments = { encoding: Encoding; characters: number; parts: number };

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';
const basic = new Set(GSM_BASIC);
const extension = new Set(GSM_EXTENSION);

export const SINGLE = { GSM_7: 160, UCS_2: 70 } as const;
export const MULTI = { GSM_7: 153, UCS_2: 67 } as const;

export function segmentsOf(text: string): Segments {
  let septets = 0;
  for (const ch of text) {
    if (basic.has(ch)) septets += 1;
    else if (extension.has(ch)) septets += 2;
    else return parts('UCS_2', text.length);
  }
  return parts('GSM_7', septets);
}

function parts(encoding: Encoding, characters: number): Segments {
  return { encoding, characters, parts: characters === 0 ? 0 : characters <= SINGLE[encoding] ? 1 : Math.ceil(characters / MULTI[encoding]) };
}

/** Characters that still fit before the text takes one more part. */
export function roomLeft({ encoding, characters, parts }: Segments): number {
  if (parts <= 1) return SINGLE[encoding] - characters;
  return parts * MULTI[encoding] - characters;
}

export const encodingName = (encoding: Encoding) => (encoding === 'GSM_7' ? 'GSM-7' : 'UCS-2');

/** The longest a client's name or an attribute's value may be: placeholders are measured at it. */
export const MAX_VALUE_LENGTH = 64;
/** What Herald refuses texts above unless its MAX_SEGMENTS says otherwise. */
export const DEFAULT_MAX_SEGMENTS = 6;

const ATTRIBUTE_KEY = /^[A-Za-z0-9_]{1,32}$/;

/**
 * The text as long as any client could make it, as Herald bills it (each placeholder at the
 * longest value, or its default if longer), or the problem with its placeholders, worded
 * as Herald words it.
 */
export function longestRendering(text: string): { text: string; placeholders: number } | { problem: string } {
  let out = '';
  let placeholders = 0;
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{{', at);
    const strayClose = text.indexOf('}}', at);
    if (strayClose !== -1 && (open === -1 || strayClose < open)) return { problem: `"}}" at character ${strayClose + 1} closes no placeholder` };
    if (open === -1) {
      out += text.slice(at);
      break;
    }
    out += text.slice(at, open);
    const close = text.indexOf('}}', open + 2);
    const inner = close === -1 ? '' : text.slice(open + 2, close);
    if (close === -1 || inner.includes('{')) return { problem: `the placeholder at character ${open + 1} is not closed with "}}"` };
    const bar = inner.indexOf('|');
    const path = (bar === -1 ? inner : inner.slice(0, bar)).trim();
    const fallback = bar === -1 ? '' : inner.slice(bar + 1);
    if (fallback.length > MAX_VALUE_LENGTH) return { problem: `the default of {{${path}}} must be at most ${MAX_VALUE_LENGTH} characters` };
    const dot = path.indexOf('.');
    const known = path === 'name' || (dot !== -1 && path.slice(0, dot) === 'attributes' && ATTRIBUTE_KEY.test(path.slice(dot + 1)));
    if (!known) return { problem: `unknown placeholder {{${path}}}: use {{name}} or {{attributes.<key>}}, with an optional default as {{name|friend}}` };
    out += 'x'.repeat(Math.max(MAX_VALUE_LENGTH, fallback.length));
    placeholders += 1;
    at = close + 2;
  }
  return { text: out, placeholders };
}
