import { describe, expect, it } from 'vitest';
import { DEFAULT_OPT_IN_KEYWORDS, DEFAULT_OPT_OUT_KEYWORDS, keywordOf, normalizePhone } from '../../src/inbound/inbound.keywords';

const defaults = { optOutKeywords: DEFAULT_OPT_OUT_KEYWORDS, optInKeywords: DEFAULT_OPT_IN_KEYWORDS };

describe('a reply read', () => {
  it.each([
    ['79161234567', '79161234567'],
    ['+79161234567', '79161234567'],
    ['89161234567', '79161234567'],
    ['+7 (916) 123-45-67', '79161234567'],
    ['8 916 123 45 67', '79161234567'],
    [' 8(916)123.45.67 ', '79161234567'],
  ])('should read %j as %s', (from, phone) => expect(normalizePhone(from)).toBe(phone));

  it.each(['9161234567', '7916123456', '791612345678', '+89161234567', '69161234567', '7916123456a', 'Herald', ''])(
    'should read %j as no phone',
    (from) => expect(normalizePhone(from)).toBeNull(),
  );

  it.each([
    ['STOP', 'OPTED_OUT'],
    [' stop\t', 'OPTED_OUT'],
    ['Stop \n ALL', 'OPTED_OUT'],
    ['unsubscribe', 'OPTED_OUT'],
    ['стоп', 'OPTED_OUT'],
    ['Отписаться', 'OPTED_OUT'],
    ['start', 'OPTED_IN'],
    ['UnStop', 'OPTED_IN'],
    ['старт', 'OPTED_IN'],
    ['STOP!', null],
    ['STOP it', null],
    ['STOPALL', null],
    ['', null],
    ['hello', null],
  ])('should take %j as %s', (text, action) => expect(keywordOf(text, defaults)).toBe(action));
});
