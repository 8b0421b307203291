import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClientsCsvReader, csvValueOf, normalizeTypedPhone, parseClientsCsv, splitCsvLine } from '../../src/clients/client.csv';

// The one reader of the clients CSV, used by `npm run import` and by the console's import.
describe('the clients CSV reader', () => {
  it('should read the columns in any order and any case, by their names', () => {
    expect(parseClientsCsv('TimeZone,tags,Phone,operator_code\nUTC,vip;new,79161234567,916\n')).toEqual([
      { line: 2, client: { phone: '79161234567', timezone: 'UTC', tags: ['vip', 'new'], operatorCode: '916' } },
    ]);
    expect(parseClientsCsv('phone,operatorCode,timezone,comment\n79161234567,,UTC,ignored')).toEqual([
      { line: 2, client: { phone: '79161234567', timezone: 'UTC', operatorCode: undefined } },
    ]);
  });

  it('should refuse a header without a phone or a timezone column', () => {
    expect(() => parseClientsCsv('phone,tags\n79161234567,vip')).toThrow('the header names no "timezone" column');
    expect(() => parseClientsCsv('')).toThrow('the header names no "phone" column');
    expect(() => parseClientsCsv('"phone,timezone\n')).toThrow(/^the header: field 1 opens a quote it does not close/);
  });

  it('should read names and attributes, an empty field being none', () => {
    const rows = parseClientsCsv(
      ['phone,timezone,name,attributes', '79160000001,UTC,Ann,city=Kazan;tier=gold', '79160000002,UTC,"Smith, Bob",', '79160000003,UTC,, a = b '].join('\n'),
    );
    expect(rows).toEqual([
      { line: 2, client: { phone: '79160000001', timezone: 'UTC', name: 'Ann', attributes: { city: 'Kazan', tier: 'gold' } } },
      { line: 3, client: { phone: '79160000002', timezone: 'UTC', name: 'Smith, Bob', attributes: undefined } },
      { line: 4, client: { phone: '79160000003', timezone: 'UTC', name: undefined, attributes: { a: 'b' } } },
    ]);
  });

  it('should unquote fields: commas and doubled quotes inside, spaces around the quotes ignored', () => {
    expect(splitCsvLine('UTC,"79620000000","x;""quoted""",901')).toEqual(['UTC', '79620000000', 'x;"quoted"', '901']);
    expect(splitCsvLine('a, "b, c" ,"",')).toEqual(['a', 'b, c', '', '']);
    expect(splitCsvLine('say "hi",x')).toEqual(['say "hi"', 'x']); // a quote inside an unquoted field is text
    expect(splitCsvLine('')).toEqual(['']);
  });

  it('should report a quote left open or text after a closing quote as the line\'s problem', () => {
    expect(splitCsvLine('a,"b,c')).toBe('field 2 opens a quote it does not close (a field does not span lines)');
    expect(splitCsvLine('"a"b,c')).toBe('field 1 has text after its closing quote');
  });

  it('should report each malformed line by its number and read the lines around it', () => {
    const rows = parseClientsCsv(
      [
        'phone,tags,timezone,name,attributes',
        '79160000001,a,UTC,Ann,city=Kazan',
        '79160000002,a,UTC', // line 3: fields short
        '', // a blank line is counted, not read
        '79160000004,a,UTC,Eve,city', // line 5: no '='
        '79160000005,"a,UTC,,', // line 6: an open quote does not run into the next line
        '79160000006,a,UTC,,',
      ].join('\n'),
    );
    expect(rows.map((r) => ('problem' in r ? `${r.line}: ${r.problem}` : `${r.line}: ${r.client.phone}`))).toEqual([
      '2: 79160000001',
      '3: expected 5 fields, found 3',
      '5: attributes: "city" is not key=value (pairs are separated by \';\')',
      '6: field 2 opens a quote it does not close (a field does not span lines)',
      '7: 79160000006',
    ]);
  });

  it('should refuse a line holding a control character, tab aside, naming it and its column', () => {
    const rows = parseClientsCsv('phone,tags,timezone\n79161234567,v\u0000ip,UTC\n79161234568,a\tb,UTC\n79161234569,x\u007F,UTC');
    expect(rows).toEqual([
      { line: 2, problem: 'holds a control character (U+0000) at column 14' },
      { line: 3, client: { phone: '79161234568', tags: ['a\tb'], timezone: 'UTC' } },
      { line: 4, problem: 'holds a control character (U+007F) at column 14' },
    ]);
  });

  it('should number lines as node:readline splits them, whatever their ends, and drop a byte order mark', () => {
    const text = '\uFEFFphone,timezone\r\n79160000001,UTC\r79160000002,UTC\n\n79160000003,UTC\r\n';
    const whole = parseClientsCsv(text);
    expect(whole.map((r) => r.line)).toEqual([2, 3, 5]);
    expect(whole.every((r) => 'client' in r)).toBe(true);
    // The streaming reader, fed the lines `npm run import` reads, answers the same.
    const reader = new ClientsCsvReader();
    const streamed = text.split(/\r?\n|\r(?!\n)/).flatMap((line) => reader.read(line) ?? []);
    expect(streamed).toEqual(whole);
  });

  it('should import nothing but common/phone.ts, which imports nothing, so that the console can bundle it', () => {
    const source = readFileSync(new URL('../../src/clients/client.csv.ts', import.meta.url), 'utf8');
    expect(source.match(/^\s*import\s.*$/gm)).toEqual(["import { russianMobileOf } from '../common/phone';"]);
    const phone = readFileSync(new URL('../../src/common/phone.ts', import.meta.url), 'utf8');
    for (const file of [source, phone]) expect(file).not.toMatch(/\brequire\(|\bimport\(/);
    expect(phone).not.toMatch(/^\s*import\s/m);
  });

  it('should read phones as people type them as 7XXXXXXXXXX, keeping what it cannot read as written', () => {
    for (const typed of ['+7 916 555-44-33', '8 (916) 555-44-33', '89165554433', '+7 (916) 555-44-33', '9165554433', '79165554433']) {
      expect(normalizeTypedPhone(typed)).toBe('79165554433');
    }
    for (const other of ['8916', '+8 916 555 44 33', '+1 (916) 555-44-35', 'not-a-phone', '']) expect(normalizeTypedPhone(other)).toBe(other.trim());
    const rows = parseClientsCsv('phone,timezone,tags\n8 (916) 555-44-33,UTC,a;b\n79161112233,UTC,\n');
    expect(rows).toEqual([
      { line: 2, client: { phone: '79165554433', timezone: 'UTC', tags: ['a', 'b'] }, typedPhone: '8 (916) 555-44-33' },
      { line: 3, client: { phone: '79161112233', timezone: 'UTC', tags: [] } },
    ]);
    const [first] = rows as { client: { phone: string; timezone: string; tags?: string[] }; typedPhone?: string }[];
    expect([csvValueOf(first, 'phone'), csvValueOf(first, 'tags[1]'), csvValueOf(first, 'timezone'), csvValueOf(first, null)]).toEqual(['8 (916) 555-44-33', 'a;b', 'UTC', undefined]);
  });
});
