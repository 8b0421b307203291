import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, onlyError, startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(() => herald?.stop());

const IMPORT = `mutation($input: [CreateClientInput!]!) { importClients(input: $input) { imported failed errors { index code field message } } }`;
const count = async () => (await herald.sql`select count(*)::int as n from clients`)[0].n as number;

describe('importClients', () => {
  it('should import the good rows and report each bad one by index', async () => {
    await herald.ok(`mutation { createClient(input: { phone: "79200000000", timezone: "UTC" }) { id } }`);
    const before = await count();
    const { importClients } = await herald.ok(IMPORT, {
      input: [
        { phone: '79200000001', timezone: 'Europe/Moscow', tags: [' vip ', 'vip'] },
        { phone: '89200000002', timezone: 'UTC' }, // bad phone
        { phone: '79200000003', timezone: 'Mars/Base' }, // bad zone
        { phone: '79200000000', timezone: 'UTC' }, // already in the directory
        { phone: '79200000001', timezone: 'UTC' }, // twice in this import
        { phone: '79200000005', timezone: 'UTC', operatorCode: '12' }, // bad code
        { phone: '79200000006', timezone: 'Asia/Vladivostok', operatorCode: '999' },
      ],
    });
    expect(importClients).toEqual({
      imported: 2,
      failed: 5,
      errors: [
        { index: 1, code: 'BAD_USER_INPUT', field: 'phone', message: expect.stringMatching(/^phone:/) },
        { index: 2, code: 'BAD_USER_INPUT', field: 'timezone', message: expect.any(String) },
        { index: 3, code: 'CONFLICT', field: 'phone', message: 'a client with this phone already exists' },
        { index: 4, code: 'CONFLICT', field: 'phone', message: 'the same phone appears earlier in this import' },
        { index: 5, code: 'BAD_USER_INPUT', field: 'operatorCode', message: expect.any(String) },
      ],
    });
    expect(await count()).toBe(before + 2);
    const rows = await herald.sql`select phone, operator_code, tags, timezone from clients where phone in ('79200000001', '79200000006') order by phone`;
    expect(rows).toEqual([
      { phone: '79200000001', operator_code: '920', tags: ['vip'], timezone: 'Europe/Moscow' },
      { phone: '79200000006', operator_code: '999', tags: [], timezone: 'Asia/Vladivostok' },
    ]);
  });

  it('should refuse more than 10,000 rows in one call and write nothing', async () => {
    const before = await count();
    const input = Array.from({ length: 10_001 }, (_, i) => ({ phone: `7930${String(i).padStart(7, '0')}`, timezone: 'UTC' }));
    expect(onlyError(await herald.gql(IMPORT, { input })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
    expect(await count()).toBe(before);
  });

  it('should import 10,000 rows in one call', async () => {
    const before = await count();
    const input = Array.from({ length: 10_000 }, (_, i) => ({ phone: `7940${String(i).padStart(7, '0')}`, timezone: 'Europe/Moscow', tags: ['bulk'] }));
    expect((await herald.ok(IMPORT, { input })).importClients).toMatchObject({ imported: 10_000, failed: 0 });
    expect(await count()).toBe(before + 10_000);
  });

  it('should be refused to a viewer', async () => {
    const res = await herald.gql(IMPORT, { input: [{ phone: '79500000001', timezone: 'UTC' }] }, { token: VIEWER_TOKEN });
    expect(onlyError(res).extensions?.code).toBe('FORBIDDEN');
  });
});

/** `npm run import` of `file` into the test's Herald, as an operator runs it. */
function runImport(file: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/import.ts', file, '--url', herald.url],
      { cwd: new URL('..', import.meta.url), env: { PATH: process.env.PATH ?? '', HERALD_TOKEN: ADMIN_TOKEN } },
      (error, stdout, stderr) => (error ? reject(Object.assign(error, { stderr })) : resolve({ stdout, stderr })),
    ),
  );
}

describe('npm run import', () => {
  it('should stream a CSV into Herald and report bad rows by line', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'herald-csv-'));
    try {
      const lines = ['timezone,phone,tags,operator_code'];
      for (let i = 0; i < 12_000; i++) lines.push(`Europe/Moscow,7960${String(i).padStart(7, '0')},a;b,`);
      lines[5] = 'Europe/Moscow,not-a-phone,,'; // line 6
      lines[100] = 'Europe/Moscow,79610000000'; // line 101: a field short
      lines[11_000] = '"Nowhere/Land",79610000001,,'; // line 11001
      lines.push('UTC,"79620000000","x;""quoted""",901');
      const file = path.join(dir, 'clients.csv');
      await writeFile(file, lines.join('\n') + '\n');
      const before = await count();
      const { stdout, stderr } = await runImport(file);
      expect(stdout).toMatch(/^imported 11998, failed 3, in [\d.]+ s \(\d+ rows\/s\)/);
      expect(stderr).toMatch(/^line 6: phone:/m);
      expect(stderr).toMatch(/^line 101: expected 4 fields, found 2$/m);
      expect(stderr).toMatch(/^line 11001: timezone:/m);
      expect(await count()).toBe(before + 11_998);
      const [quoted] = await herald.sql`select tags, operator_code from clients where phone = '79620000000'`;
      expect(quoted).toEqual({ tags: ['x', '"quoted"'], operator_code: '901' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('should read names and attributes for personalised texts, and report a malformed attribute by line', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'herald-csv-'));
    try {
      const file = path.join(dir, 'clients.csv');
      await writeFile(file, [
        'phone,timezone,name,attributes',
        '79630000001,Europe/Moscow,Ann,city=Kazan;tier=gold',
        '79630000002,UTC,"Smith, Bob",',
        '79630000003,UTC,,',
        '79630000004,UTC,Eve,city', // line 5: no '='
        '',
      ].join('\n'));
      const { stdout, stderr } = await runImport(file);
      expect(stdout).toMatch(/^imported 3, failed 1/);
      expect(stderr).toMatch(/^line 5: attributes: "city" is not key=value/m);
      const rows = await herald.sql`select phone, name, attributes from clients where phone like '7963000000_' order by phone`;
      expect(rows).toEqual([
        { phone: '79630000001', name: 'Ann', attributes: { city: 'Kazan', tier: 'gold' } },
        { phone: '79630000002', name: 'Smith, Bob', attributes: {} },
        { phone: '79630000003', name: null, attributes: {} },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('should write the phones people type (+7 916 555-44-33, 8 (916) 555-44-33, 89165554433) as 7XXXXXXXXXX, say so, and show a bad value', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'herald-csv-'));
    try {
      const file = path.join(dir, 'clients.csv');
      await writeFile(file, [
        'phone,timezone',
        '+7 916 555-44-31,Europe/Moscow',
        '"8 (916) 555-44-32",Europe/Moscow',
        '89165554433,UTC',
        '79165554434,UTC',
        '+1 (916) 555-44-35,UTC', // line 6: not a Russian mobile, refused as written
        '',
      ].join('\n'));
      const { stdout, stderr } = await runImport(file);
      expect(stdout).toMatch(/^imported 4, failed 1/);
      expect(stdout).toMatch(/^3 phones written as 7XXXXXXXXXX$/m);
      expect(stderr).toMatch(/^line 6: phone: must be 7 followed by 10 digits, e\.g\. 79161234567 \(value: "\+1 \(916\) 555-44-35"\)$/m);
      const rows = await herald.sql`select phone from clients where phone like '791655544__' order by phone`;
      expect(rows.map((r) => r.phone)).toEqual(['79165554431', '79165554432', '79165554433', '79165554434']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
