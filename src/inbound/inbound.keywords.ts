/**
 * How a reply is read: its phone in Herald's form, and whether its text is a keyword. One
 * owner for both, so that config (the keyword lists) and the service compare alike.
 */
import { russianMobileOf } from '../common/phone';

/** The keywords of issue 19, normalised (OPT_OUT_KEYWORDS and OPT_IN_KEYWORDS replace them). */
export const DEFAULT_OPT_OUT_KEYWORDS = ['STOP', 'STOP ALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'СТОП', 'ОТПИСАТЬСЯ'];
export const DEFAULT_OPT_IN_KEYWORDS = ['START', 'UNSTOP', 'СТАРТ'];

/**
 * A text as keywords are compared: trimmed, inner whitespace collapsed to one space, upper
 * case. toUpperCase is Unicode's full mapping, locale-free: "стоп" is "СТОП" everywhere.
 */
export function normalizeKeyword(text: string): string {
  return text.trim().replace(/\s+/gu, ' ').toUpperCase();
}

export type KeywordAction = 'OPTED_OUT' | 'OPTED_IN';
export type Keywords = { optOutKeywords: readonly string[]; optInKeywords: readonly string[] };

/** What a reply asks for: the whole text must be one keyword ("STOP it" is just a reply). */
export function keywordOf(text: string, keywords: Keywords): KeywordAction | null {
  const word = normalizeKeyword(text);
  if (keywords.optOutKeywords.includes(word)) return 'OPTED_OUT';
  if (keywords.optInKeywords.includes(word)) return 'OPTED_IN';
  return null;
}

/**
 * A sender's number as 7XXXXXXXXXX: "+7 (916) 123-45-67", "8 916 123 45 67" and "79161234567"
 * all give 79161234567; null when it is no Russian mobile number in any of those forms (the
 * reply is then kept with the number as given, and acted on never).
 */
export function normalizePhone(from: string): string | null {
  return russianMobileOf(from);
}
