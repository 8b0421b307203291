import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyError, startTestHerald, type TestHerald } from './support/herald';
import { wsOperation } from './support/herald';
import { parseCsvClient, csvColumns } from '../src/clients/client.csv';

/**
 * Control characters in inputs, and what the logs keep of a refused statement. A NUL byte
 * used to reach PostgreSQL (which refuses it in text): an INTERNAL_SERVER_ERROR for one
 * client, the loss of every good row for an import, and a log line of every phone of the
 * batch.
 */
let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(() => herald?.stop());

const IMPORT = `mutation($input: [CreateClientInput!]!) { importClients(input: $input) { imported failed errors { index code field message } } }`;
const CREATE_CLIENT = `mutation($input: CreateClientInput!) { createClient(input: $input) { id } }`;
const count = async (table: string) => (await herald.sql.unsafe(`select count(*)::int as n from ${table}`))[0].n as number;
let phone = 79_500_000_000 + Math.floor(Math.random() * 10_000_000);
const nextPhone = () => String(phone++);

describe('control characters', () => {
  it.each([
    ['a NUL in a tag', { tags: ['vip\u0000'] }, 'tags[0]'],
    ['a line break in a tag', { tags: ['ok', 'v\nip'] }, 'tags[1]'],
    ['an escape in a name', { name: 'Ann\u001b[31m' }, 'name'],
    ['a NUL in an attribute', { attributes: { city: 'Pa\u0000ris' } }, 'attributes.city'],
    ['a control character in an attribute key', { attributes: { 'ci\u0007ty': 'Paris' } }, 'attributes.ci\u0007ty'],
    ['a tab in the time zone', { timezone: 'UTC\t' }, 'timezone'],
    ['half a surrogate pair in a name', { name: 'Ann \ud800' }, 'name'],
  ])('should refuse %s with BAD_USER_INPUT naming the field, and write nothing', async (_case, fields, field) => {
    const before = await count('clients');
    const error = onlyError(await herald.gql(CREATE_CLIENT, { input: { phone: nextPhone(), timezone: 'UTC', ...fields } }));
    expect(error.extensions).toEqual({ code: 'BAD_USER_INPUT', field, fields: [{ field, message: expect.any(String) }] });
    expect(error.message).toMatch(/control characters|valid Unicode/);
    expect(await count('clients')).toBe(before);
  });

  it('should refuse a NUL in a mailing text but keep its line breaks and tabs', async () => {
    const at = { startAt: new Date(Date.now() + 3_600_000).toISOString(), endAt: new Date(Date.now() + 7_200_000).toISOString() };
    const CREATE = `mutation($input: CreateMailingInput!) { createMailing(input: $input) { id text } }`;
    const before = await count('mailings');
    expect(onlyError(await herald.gql(CREATE, { input: { text: 'Hi\u0000', ...at } })).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'text', fields: [{ field: 'text', message: expect.any(String) }] });
    expect(onlyError(await herald.gql(CREATE, { input: { text: 'Hi', name: 'two\nlines', ...at } })).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'name', fields: [{ field: 'name', message: expect.any(String) }] });
    expect(onlyError(await herald.gql(CREATE, { input: { text: 'Hi', filter: { tags: ['a\u0000'] }, ...at } })).extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'filter.tags[0]',
      fields: [{ field: 'filter.tags[0]', message: expect.any(String) }],
    });
    expect(await count('mailings')).toBe(before);
    const { createMailing } = await herald.ok(CREATE, { input: { text: 'Line one\nLine\ttwo', ...at } });
    expect(createMailing.text).toBe('Line one\nLine\ttwo');
  });

  it('should refuse control characters in query arguments and over the websocket alike', async () => {
    expect(onlyError(await herald.gql(`query($p: String) { clients(phone: $p) { totalCount } }`, { p: '79\u0000' })).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'phone', fields: [{ field: 'phone', message: expect.any(String) }] });
    const ws = await wsOperation(herald.url, CREATE_CLIENT, { variables: { input: { phone: nextPhone(), timezone: 'UTC', tags: ['\u0000'] } } });
    expect(ws.results[0].errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'tags[0]', fields: [{ field: 'tags[0]', message: expect.any(String) }] });
    const reason = onlyError(await herald.gql(`mutation { optOut(phone: "${nextPhone()}", reason: "spam\\u0000") }`));
    expect(reason.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'reason', fields: [{ field: 'reason', message: expect.any(String) }] });
  });
});

describe('importClients with bad rows', () => {
  it('should import every good row of the call and report each row with a control character alone', async () => {
    const before = await count('clients');
    const input = Array.from({ length: 2_000 }, () => ({ phone: nextPhone(), timezone: 'UTC', tags: ['bulk'] }));
    input[3] = { ...input[3], tags: ['bu\u0000lk'] };
    input[500] = { ...input[500], name: 'Ann\u0000' } as (typeof input)[number];
    input[1999] = { ...input[1999], attributes: { city: '\u0001' } } as (typeof input)[number];
    const { importClients } = await herald.ok(IMPORT, { input });
    expect(importClients.imported).toBe(1_997);
    expect(importClients.errors).toEqual([
      { index: 3, code: 'BAD_USER_INPUT', field: 'tags', message: expect.stringMatching(/control characters/) },
      { index: 500, code: 'BAD_USER_INPUT', field: 'name', message: expect.stringMatching(/control characters/) },
      { index: 1999, code: 'BAD_USER_INPUT', field: 'attributes.city', message: expect.stringMatching(/control characters/) },
    ]);
    expect(await count('clients')).toBe(before + 1_997);
  });

  it('should keep the good rows when PostgreSQL itself refuses one row, and log no phone or parameter', async () => {
    // A rule Herald's checks do not know: PostgreSQL refuses the statement holding that row.
    await herald.sql`alter table clients add constraint no_tokyo_for_this_test check (timezone <> 'Asia/Tokyo')`;
    try {
      const before = await count('clients');
      const input = Array.from({ length: 1_000 }, () => ({ phone: nextPhone(), timezone: 'UTC' }));
      input[617] = { ...input[617], timezone: 'Asia/Tokyo' };
      const logsBefore = herald.rawLog.length;
      const { importClients } = await herald.ok(IMPORT, { input });
      expect(importClients).toEqual({
        imported: 999,
        failed: 1,
        errors: [{ index: 617, code: 'BAD_USER_INPUT', field: null, message: expect.stringMatching(/^the database refused this row: .*no_tokyo_for_this_test/) }],
      });
      expect(await count('clients')).toBe(before + 999);
      const lines = herald.rawLog.slice(logsBefore).join('\n');
      for (const { phone: p } of input.slice(0, 20)) expect(lines).not.toContain(p);
      expect(lines).not.toMatch(/insert into clients|jsonb_to_recordset|params:/i);
    } finally {
      await herald.sql`alter table clients drop constraint no_tokyo_for_this_test`;
    }
  });

  it('should report a CSV line with a control character by itself', () => {
    const columns = csvColumns('phone,tags,timezone');
    expect(parseCsvClient('79161234567,vip;new,UTC', columns)).toEqual({ phone: '79161234567', tags: ['vip', 'new'], timezone: 'UTC' });
    expect(parseCsvClient('79161234567,v\u0000ip,UTC', columns)).toMatch(/control character \(U\+0000\) at column 14/);
  });
});

describe('what error lines keep', () => {
  it('should log an internal error with its cause but without the SQL, its parameters or phones', async () => {
    const own = await startTestHerald();
    try {
      await own.sql`alter table clients rename column timezone to tz`;
      const input = [{ phone: '79161234567', timezone: 'UTC' }];
      const res = await own.gql(IMPORT, { input });
      expect(onlyError(res).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      const line = own.rawLog.find((l) => l.includes('internal error in a GraphQL operation'));
      expect(line).toBeDefined();
      expect(line).toMatch(/column .*does not exist/); // the cause is there
      expect(line).not.toContain('79161234567');
      expect(line).not.toMatch(/jsonb_to_recordset|params:/);
    } finally {
      await own.stop();
    }
  });
});
