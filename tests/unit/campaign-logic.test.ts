import { describe, expect, it } from 'vitest';
import { formatFrequencyCap, parseFrequencyCap } from '../../src/mailings/frequency-cap';
import { longestRendering, parseTemplate, render } from '../../src/mailings/mailing.template';
import { segmentsOf } from '../../src/mailings/segments';

describe('segments, as the gateway bills them', () => {
  it.each([
    ['GSM-7, one part full', 'a'.repeat(160), { encoding: 'GSM_7', characters: 160, parts: 1, charactersLeft: 0 }],
    ['GSM-7, one over', 'a'.repeat(161), { encoding: 'GSM_7', characters: 161, parts: 2, charactersLeft: 145 }],
    ['GSM-7, two parts full', 'a'.repeat(306), { encoding: 'GSM_7', characters: 306, parts: 2, charactersLeft: 0 }],
    ['GSM-7, one over two', 'a'.repeat(307), { encoding: 'GSM_7', characters: 307, parts: 3, charactersLeft: 152 }],
    ['GSM-7 with its own accents and symbols', 'Ünicode? No: £$¥èéÇØÅΔΦ@§¿ñà', { encoding: 'GSM_7', characters: 28, parts: 1, charactersLeft: 132 }],
    ['extension characters count twice: 80 of them fill one part', '€'.repeat(80), { encoding: 'GSM_7', characters: 160, parts: 1 }],
    ['extension characters: 81 take two', '€'.repeat(81), { encoding: 'GSM_7', characters: 162, parts: 2 }],
    ['every extension character', '^{}\\[~]|€', { encoding: 'GSM_7', characters: 18, parts: 1 }],
    ['Cyrillic is UCS-2: 70 in one part', 'ж'.repeat(70), { encoding: 'UCS_2', characters: 70, parts: 1, charactersLeft: 0 }],
    ['Cyrillic, one over', 'ж'.repeat(71), { encoding: 'UCS_2', characters: 71, parts: 2, charactersLeft: 63 }],
    ['Cyrillic, two parts full', 'ж'.repeat(134), { encoding: 'UCS_2', characters: 134, parts: 2 }],
    ['Cyrillic, one over two', 'ж'.repeat(135), { encoding: 'UCS_2', characters: 135, parts: 3 }],
    ['an emoji counts two units: 35 fill one part', '😀'.repeat(35), { encoding: 'UCS_2', characters: 70, parts: 1 }],
    ['36 emoji take two', '😀'.repeat(36), { encoding: 'UCS_2', characters: 72, parts: 2 }],
    ['one character outside GSM-7 makes it all UCS-2', `${'a'.repeat(100)}ё`, { encoding: 'UCS_2', characters: 101, parts: 2 }],
  ])('should count %s', (_what, text, expected) => {
    expect(segmentsOf(text)).toMatchObject(expected);
  });
});

describe('templates', () => {
  it('should render names and attributes, each with its default, and nothing for a missing one without', () => {
    const t = parseTemplate('Hi {{name|friend}}! {{ attributes.city }}:{{attributes.code|-}}');
    expect(render(t, { name: 'Ann', attributes: { city: 'Kazan', code: '7' } })).toBe('Hi Ann! Kazan:7');
    expect(render(t, { name: null, attributes: {} })).toBe('Hi friend! :-');
  });

  it('should measure the text at its placeholders\' longest values', () => {
    expect(longestRendering(parseTemplate('{{name}}!'))).toHaveLength(65);
    expect(longestRendering(parseTemplate('plain'))).toBe('plain');
  });

  it.each(['{{', '}}', '{{name', '{{nam}}', '{{attributes}}', '{{attributes.x.y}}', '{{ {{name}} }}', `{{name|${'d'.repeat(65)}}}`])(
    'should refuse %j',
    (text) => {
      expect(() => parseTemplate(text)).toThrow(/text: /);
    },
  );
});

describe('frequency caps', () => {
  it.each([
    ['2/24h', { count: 2, windowS: 86_400 }, '2/1d'],
    ['1/30m', { count: 1, windowS: 1_800 }, '1/30m'],
    [' 5 / 7d ', { count: 5, windowS: 604_800 }, '5/7d'],
    ['3/90s', { count: 3, windowS: 90 }, '3/90s'],
  ])('should read %j', (text, cap, formatted) => {
    expect(parseFrequencyCap(text)).toEqual(cap);
    expect(formatFrequencyCap(cap)).toBe(formatted);
  });

  it.each(['', '2', '2/', '0/1h', '2/0h', '2/1w', 'two/1h', '1/400d'])('should refuse %j', (text) => {
    expect(parseFrequencyCap(text)).toBeUndefined();
  });
});
