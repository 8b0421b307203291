import { describe, expect, it } from 'vitest';
import { segmentsOf } from '../../src/mailings/segments';
import { sourceAddressOf } from '../../src/providers/smpp.client';
import smpp from 'smpp';
import { concatenationHeader, encodeForSmpp, readConcatenation, splitForSmpp } from '../../src/providers/smpp.parts';

const septets = (text: string) => segmentsOf(text).characters;

describe('SMPP parts of a text', () => {
  it('should send a text that fits one part as it is, GSM-7 as data_coding 0 and anything else as 8', () => {
    expect(splitForSmpp('A'.repeat(160))).toEqual({ dataCoding: 0, parts: ['A'.repeat(160)] });
    expect(splitForSmpp('Ж'.repeat(70))).toEqual({ dataCoding: 8, parts: ['Ж'.repeat(70)] });
    expect(splitForSmpp('{}'.repeat(40))).toEqual({ dataCoding: 0, parts: ['{}'.repeat(40)] });
  });

  it('should split GSM-7 into parts of 153 septets, as many as segmentsOf counts', () => {
    const text = 'A'.repeat(161);
    expect(splitForSmpp(text).parts.map((p) => p.length)).toEqual([153, 8]);
    const long = 'x'.repeat(153 * 6 + 1);
    expect(splitForSmpp(long).parts).toHaveLength(segmentsOf(long).parts);
  });

  it('should count an extension character as 2 septets and never split it', () => {
    const text = `${'a'.repeat(152)}€${'b'.repeat(10)}`;
    const { parts } = splitForSmpp(text);
    expect(parts).toEqual(['a'.repeat(152), `€${'b'.repeat(10)}`]);
    expect(parts.length).toBe(segmentsOf(text).parts);
    expect(parts.join('')).toBe(text);
    const brackets = '[]'.repeat(100);
    for (const part of splitForSmpp(brackets).parts) expect(septets(part)).toBeLessThanOrEqual(153);
    expect(splitForSmpp(brackets).parts.join('')).toBe(brackets);
  });

  it('should split UCS-2 into parts of 67 code units, never splitting a surrogate pair', () => {
    expect(splitForSmpp('Ж'.repeat(100)).parts.map((p) => p.length)).toEqual([67, 33]);
    const emoji = `${'Ж'.repeat(66)}😀${'Ж'.repeat(10)}`;
    const { dataCoding, parts } = splitForSmpp(emoji);
    expect(dataCoding).toBe(8);
    expect(parts).toEqual(['Ж'.repeat(66), `😀${'Ж'.repeat(10)}`]);
    expect(parts.length).toBe(segmentsOf(emoji).parts);
  });

  it('should agree with segmentsOf on part counts for texts of every length', () => {
    for (let n = 1; n <= 1000; n += 7) {
      for (const text of ['g'.repeat(n), 'ы'.repeat(n)]) {
        const split = splitForSmpp(text);
        expect(split.parts.join('')).toBe(text);
        expect(split.parts.length, `${n} characters`).toBe(segmentsOf(text).parts);
      }
      // With extension characters and emoji a part may hold one septet or unit less (see the next test).
      for (const mixed of [`${'{'.repeat(n >> 1)}${'a'.repeat(n - (n >> 1))}`, `${'ы'.repeat(n % 67)}${'😀'.repeat(n >> 2)}`]) {
        const split = splitForSmpp(mixed);
        expect(split.parts.join('')).toBe(mixed);
        if (split.dataCoding === 0) for (const part of split.parts) expect(septets(part)).toBeLessThanOrEqual(split.parts.length > 1 ? 153 : 160);
        expect(split.parts.length, `${mixed.length} units`).toBe(segmentsOf(mixed).parts);
      }
    }
  });

  it('should take one part more where a whole character does not fit at a boundary', () => {
    // 306 septets are 2 parts by arithmetic, but the € at septets 153-154 cannot be cut in
    // two: the wire needs 152 + 153 + 1, and Herald counts (and bills) the 3 it sends.
    const text = `${'a'.repeat(152)}€${'a'.repeat(152)}`;
    const { parts } = splitForSmpp(text);
    expect(parts.map(septets)).toEqual([152, 153, 1]);
    expect(parts.join('')).toBe(text);
    expect(segmentsOf(text)).toMatchObject({ parts: 3, charactersLeft: 152 });
  });

  it('should write and read the concatenation header, IEI 0x00 with an 8-bit reference', () => {
    expect([...concatenationHeader(0x1a3, 3, 2)]).toEqual([0x05, 0x00, 0x03, 0xa3, 3, 2]);
    expect(readConcatenation([Buffer.from([0x00, 0x03, 7, 2, 1])])).toEqual({ reference: 7, total: 2, sequence: 1 });
    expect(readConcatenation([Buffer.from([0x08, 0x04, 0, 7, 2, 1])])).toBeNull();
    expect(readConcatenation(undefined)).toBeNull();
  });
});

describe('SMPP source address', () => {
  it('should make letters alphanumeric, long or plus numbers international and short ones a short code', () => {
    expect(sourceAddressOf('Herald')).toEqual({ ton: 5, npi: 0 });
    expect(sourceAddressOf('79161234567')).toEqual({ ton: 1, npi: 1 });
    expect(sourceAddressOf('+4420')).toEqual({ ton: 1, npi: 1 });
    expect(sourceAddressOf('4444')).toEqual({ ton: 3, npi: 0 });
  });

  it('should put on the wire, from its encoded parts, the bytes the package makes of the text itself', () => {
    const texts = ['Hello @ {world} €', 'Привет, мир', 'Ж'.repeat(100), 'A long GSM text, [brackets] and ^carets^ '.repeat(6)];
    for (const text of texts) {
      const { dataCoding, parts } = splitForSmpp(text);
      const encoded = encodeForSmpp(text);
      expect(encoded.dataCoding).toBe(dataCoding);
      expect(encoded.parts).toHaveLength(parts.length);
      expect(encodeForSmpp(text)).toBe(encoded);
      parts.forEach((part, i) => {
        const fields = { destination_addr: '79161234567', data_coding: dataCoding };
        const udh = parts.length > 1 ? concatenationHeader(7, parts.length, i + 1) : undefined;
        const theirs = new smpp.PDU('submit_sm', { ...fields, short_message: udh ? { udh, message: part } : { message: part } });
        const ours = new smpp.PDU('submit_sm', {
          ...fields,
          esm_class: udh ? 0x40 : 0,
          short_message: udh ? Buffer.concat([udh, encoded.parts[i]]) : encoded.parts[i],
        });
        theirs.sequence_number = ours.sequence_number = 1;
        expect((ours as unknown as { toBuffer(): Buffer }).toBuffer().toString('hex')).toBe((theirs as unknown as { toBuffer(): Buffer }).toBuffer().toString('hex'));
      });
    }
  });
});
