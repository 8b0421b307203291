import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFilterCondition, type ClientFilter } from '../src/clients/client.filter';
import { clients } from '../src/clients/client.table';
import { connectDatabase, type Database } from '../src/db/connection';
import { migrateDatabase } from '../src/db/migrate';
import { insertMailing } from '../src/mailings/mailing.store';
import { filterOf, mailingColumnsSql, type MailingColumns } from '../src/mailings/mailing.values';
import { createTestDatabase } from './support/herald';

/**
 * The audience filter is one rule written twice: in drizzle (client.filter.ts, the clients
 * query and the audience preview) and in SQL (herald_in_audience, migration 0007: the
 * start's count, the audience stream, the directory triggers). The same cases go through
 * both, from a mailing's stored filter, and both must give the expected clients.
 */

let database: { url: string; drop: () => Promise<void> };
let conn: Database;
beforeAll(async () => {
  database = await createTestDatabase();
  await migrateDatabase(database.url);
  conn = connectDatabase(database.url, { max: 2 });
  await conn.db.insert(clients).values(
    Object.entries(DIRECTORY).map(([name, c], i) => ({ phone: `7999000000${i}`, name, operatorCode: c.code, tags: c.tags, timezone: 'UTC' })),
  );
});
afterAll(async () => {
  await conn?.close();
  await database?.drop();
});

const DIRECTORY: Record<string, { code: string; tags: string[] }> = {
  untagged900: { code: '900', tags: [] },
  vip900: { code: '900', tags: ['vip'] },
  vipNew901: { code: '901', tags: ['vip', 'new'] },
  new902: { code: '902', tags: ['new'] },
  untagged901: { code: '901', tags: [] },
};
const EVERYONE = Object.keys(DIRECTORY);

const CASES: [string, ClientFilter, string[]][] = [
  ['an empty filter matches everyone', { operatorCodes: [], tags: [], tagMatch: 'ANY' }, EVERYONE],
  ['an empty filter matches everyone, whatever its match', { operatorCodes: [], tags: [], tagMatch: 'ALL' }, EVERYONE],
  ['one operator code', { operatorCodes: ['900'], tags: [], tagMatch: 'ANY' }, ['untagged900', 'vip900']],
  ['any of several operator codes', { operatorCodes: ['900', '901'], tags: [], tagMatch: 'ALL' }, ['untagged900', 'vip900', 'vipNew901', 'untagged901']],
  ['an operator code nobody has', { operatorCodes: ['999'], tags: [], tagMatch: 'ANY' }, []],
  ['one tag, ANY', { operatorCodes: [], tags: ['vip'], tagMatch: 'ANY' }, ['vip900', 'vipNew901']],
  ['one tag, ALL', { operatorCodes: [], tags: ['vip'], tagMatch: 'ALL' }, ['vip900', 'vipNew901']],
  ['two tags, ANY: either', { operatorCodes: [], tags: ['vip', 'new'], tagMatch: 'ANY' }, ['vip900', 'vipNew901', 'new902']],
  ['two tags, ALL: both', { operatorCodes: [], tags: ['vip', 'new'], tagMatch: 'ALL' }, ['vipNew901']],
  ['a tag nobody has, ANY', { operatorCodes: [], tags: ['gone'], tagMatch: 'ANY' }, []],
  ['a tag nobody has among others, ALL', { operatorCodes: [], tags: ['vip', 'gone'], tagMatch: 'ALL' }, []],
  ['an operator code and a tag: both must hold', { operatorCodes: ['901'], tags: ['new'], tagMatch: 'ANY' }, ['vipNew901']],
  ['an operator code and tags, ALL', { operatorCodes: ['900', '901'], tags: ['vip', 'new'], tagMatch: 'ALL' }, ['vipNew901']],
  ['an operator code whose clients lack the tag', { operatorCodes: ['902'], tags: ['vip'], tagMatch: 'ANY' }, []],
];

describe('the audience filter, in drizzle and in SQL', () => {
  for (const [name, filter, expected] of CASES) {
    it(`should agree in both: ${name}`, async () => {
      const { db } = conn;
      const mailing = await insertMailing(db, {
        name: null,
        text: 'x',
        startAt: new Date(Date.now() + 3_600_000),
        endAt: new Date(Date.now() + 7_200_000),
        filter,
        sendWindow: null,
        frequencyCap: null,
        maxFailureRate: null,
      });
      // The stored filter, read back as a raw SQL read (MailingForClaim's way) reads it.
      const [columns] = await db.execute<MailingColumns & Record<string, unknown>>(sql`select ${mailingColumnsSql('g')} from mailings g where g.id = ${mailing.id}`);
      expect(filterOf(columns)).toEqual(filterOf(mailing));

      const byDrizzle = await db.select({ name: clients.name }).from(clients).where(clientFilterCondition(filterOf(mailing)));
      const bySql = await db.execute<{ name: string }>(sql`
        select c.name from clients c join mailings g on g.id = ${mailing.id}
        where herald_in_audience(c.operator_code, c.tags, g.filter_operator_codes, g.filter_tags, g.filter_tag_match)`);
      const names = (rows: Iterable<{ name: string | null }>) => [...rows].map((r) => r.name).sort();
      expect({ drizzle: names(byDrizzle), sql: names(bySql) }).toEqual({ drizzle: [...expected].sort(), sql: [...expected].sort() });
    });
  }
});
