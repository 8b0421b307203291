import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyError, startTestHerald, VIEWER_TOKEN, type GqlResponse, type TestHerald } from './support/herald';

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(() => herald?.stop());

// ---------------------------------------------------------------------------------------
// Operations and helpers

const FIELDS = 'id phone operatorCode tags timezone createdAt updatedAt';
const CREATE = `mutation ($input: CreateClientInput!) { createClient(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateClientInput!) { updateClient(id: $id, input: $input) { ${FIELDS} } }`;
const DELETE = `mutation ($id: ID!) { deleteClient(id: $id) }`;
const GET = `query ($id: ID!) { client(id: $id) { ${FIELDS} } }`;
const LIST = `query ($first: Int, $after: String, $filter: ClientFilterInput) {
  clients(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id phone operatorCode tags } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

type Client = { id: string; phone: string; operatorCode: string; tags: string[]; timezone: string; createdAt: string; updatedAt: string };
type Connection = {
  edges: { cursor: string; node: Pick<Client, 'id' | 'phone' | 'operatorCode' | 'tags'> }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
};

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const MISSING_ID = '987654321';

/** A phone no other test uses: 7, the operator's 3 digits, then a 7-digit serial. */
let serial = 1000;
const phone = (operator = '916') => `7${operator}${String(serial++).padStart(7, '0')}`;
/** A tag no other test uses, so that a filter on it sees only this test's clients. */
let tagSerial = 0;
const uniqueTag = (name = 't') => `${name}-${++tagSerial}`;
/** An operator code no client gets from its phone (phones here use 9xx), one per call. */
let codeSerial = 100;
const uniqueCode = () => String(codeSerial++);

async function createClient(input: Record<string, unknown> = {}): Promise<Client> {
  const data = await herald.ok(CREATE, { input: { phone: phone(), timezone: 'Europe/Moscow', ...input } });
  return data.createClient;
}

async function updateClient(id: string, input: Record<string, unknown>): Promise<Client> {
  return (await herald.ok(UPDATE, { id, input })).updateClient;
}

async function listClients(vars: { first?: number; after?: string; filter?: Record<string, unknown> } = {}): Promise<Connection> {
  return (await herald.ok(LIST, vars)).clients;
}

/** Ids of the clients matching a filter, over every page. */
async function matchingIds(filter: Record<string, unknown>): Promise<string[]> {
  const page = await listClients({ filter, first: 500 });
  expect(page.pageInfo.hasNextPage).toBe(false);
  expect(page.totalCount).toBe(page.edges.length);
  return page.edges.map((e) => e.node.id);
}

const allRows = () => herald.sql`select * from clients order by id`;
const countRows = async () => (await herald.sql`select count(*)::int as n from clients`)[0].n as number;

/** Runs a refused request and checks that the clients table is exactly as before. */
async function expectNothingWritten(request: () => Promise<GqlResponse>): Promise<GqlResponse> {
  const [countBefore, before] = [await countRows(), await allRows()];
  const res = await request();
  expect(await countRows()).toBe(countBefore);
  expect(await allRows()).toEqual(before);
  return res;
}

function expectError(res: GqlResponse, code: string, field?: string) {
  const error = onlyError(res);
  expect(error.extensions?.code).toBe(code);
  if (field !== undefined) expect(error.extensions?.field).toBe(field);
  expect(res.body.data ?? null).toBeNull();
  return error;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Each row: what is wrong, the input fields that are wrong, the field the error names. */
const INVALID_INPUTS: [string, Record<string, unknown>, string][] = [
  ['a phone that is too short', { phone: '7916123456' }, 'phone'],
  ['a phone that is too long', { phone: '791612345678' }, 'phone'],
  ['a phone with letters', { phone: '7916123456a' }, 'phone'],
  ['a phone starting with 8', { phone: '89161234567' }, 'phone'],
  ['a phone starting with +', { phone: '+79161234567' }, 'phone'],
  ['an empty phone', { phone: '' }, 'phone'],
  ['an operator code of 2 digits', { operatorCode: '91' }, 'operatorCode'],
  ['an operator code of 4 digits', { operatorCode: '9161' }, 'operatorCode'],
  ['an operator code with letters', { operatorCode: '9a1' }, 'operatorCode'],
  ['an empty operator code', { operatorCode: '' }, 'operatorCode'],
  ['an empty tag', { tags: ['ok', ''] }, 'tags'],
  ['a blank tag', { tags: ['   '] }, 'tags'],
  ['a tag of 33 characters', { tags: ['x'.repeat(33)] }, 'tags'],
  ['21 distinct tags', { tags: Array.from({ length: 21 }, (_, i) => `tag${i}`) }, 'tags'],
  ['an unknown time zone', { timezone: 'Mars/Olympus' }, 'timezone'],
  ['a UTC offset as time zone', { timezone: '+03:00' }, 'timezone'],
  ['an empty time zone', { timezone: '' }, 'timezone'],
];

// ---------------------------------------------------------------------------------------

describe('createClient', () => {
  it('should return every field of the new client, as stored', async () => {
    const p = phone();
    const client = await createClient({ phone: p, tags: ['vip'], timezone: 'Europe/Moscow' });

    expect(client).toEqual({
      id: expect.stringMatching(/^[1-9][0-9]*$/),
      phone: p,
      operatorCode: p.slice(1, 4),
      tags: ['vip'],
      timezone: 'Europe/Moscow',
      createdAt: expect.stringMatching(ISO_8601),
      updatedAt: expect.stringMatching(ISO_8601),
    });
    expect(Math.abs(Date.parse(client.createdAt) - Date.now())).toBeLessThan(60_000);
    expect(client.updatedAt).toBe(client.createdAt);

    const [row] = await herald.sql`select * from clients where id = ${client.id}`;
    expect(row).toMatchObject({ phone: p, operator_code: p.slice(1, 4), tags: ['vip'], timezone: 'Europe/Moscow' });
    expect(row.created_at.toISOString()).toBe(client.createdAt);
  });

  it('should default operatorCode to the phone\'s digits 2–4 (79161234567 → "916")', async () => {
    const client = await createClient({ phone: '79161234567' });
    expect(client.operatorCode).toBe('916');
  });

  it('should keep an explicit operatorCode that differs from the phone', async () => {
    const client = await createClient({ phone: phone('916'), operatorCode: '925' });
    expect(client.operatorCode).toBe('925');
    const [row] = await herald.sql`select operator_code from clients where id = ${client.id}`;
    expect(row.operator_code).toBe('925');
  });

  it('should trim and deduplicate tags, keeping the first occurrence\'s order', async () => {
    const client = await createClient({ tags: [' vip ', 'new', 'vip', '  new', 'moscow'] });
    expect(client.tags).toEqual(['vip', 'new', 'moscow']);
    const [row] = await herald.sql`select tags from clients where id = ${client.id}`;
    expect(row.tags).toEqual(['vip', 'new', 'moscow']);
  });

  it('should give a client created without tags no tags', async () => {
    expect((await createClient()).tags).toEqual([]);
  });

  it('should accept a tag of exactly 32 characters and 20 distinct tags (duplicates not counted)', async () => {
    const long = 'y'.repeat(32);
    expect((await createClient({ tags: [long] })).tags).toEqual([long]);

    const twenty = Array.from({ length: 20 }, (_, i) => `tag${i}`);
    expect((await createClient({ tags: [...twenty, 'tag0', ' tag1 '] })).tags).toEqual(twenty);
  });

  it.each(['Europe/Moscow', 'Asia/Vladivostok', 'UTC'])('should accept the IANA time zone %s', async (timezone) => {
    expect((await createClient({ timezone })).timezone).toBe(timezone);
  });

  it.each(INVALID_INPUTS)('should refuse %s with BAD_USER_INPUT and write nothing', async (_what, wrong, field) => {
    const res = await expectNothingWritten(() =>
      herald.gql(CREATE, { input: { phone: phone(), timezone: 'Europe/Moscow', ...wrong } }),
    );
    const error = expectError(res, 'BAD_USER_INPUT', field);
    expect(error.message).toContain(field);
  });

  it('should refuse a phone already in the directory with CONFLICT and write nothing', async () => {
    const existing = await createClient({ timezone: 'Europe/Moscow' });
    const res = await expectNothingWritten(() =>
      herald.gql(CREATE, { input: { phone: existing.phone, timezone: 'UTC', tags: ['other'] } }),
    );
    expectError(res, 'CONFLICT', 'phone');
  });
});

describe('updateClient', () => {
  it('should change only the fields given and keep the others', async () => {
    const client = await createClient({ operatorCode: '925', tags: ['a', 'b'], timezone: 'Europe/Moscow' });

    const tz = await updateClient(client.id, { timezone: 'Asia/Vladivostok' });
    expect(tz).toMatchObject({ id: client.id, phone: client.phone, operatorCode: '925', tags: ['a', 'b'], timezone: 'Asia/Vladivostok' });

    const tags = await updateClient(client.id, { tags: [' c ', 'c', 'd'] });
    expect(tags).toMatchObject({ phone: client.phone, operatorCode: '925', tags: ['c', 'd'], timezone: 'Asia/Vladivostok' });

    const code = await updateClient(client.id, { operatorCode: '903' });
    expect(code).toMatchObject({ phone: client.phone, operatorCode: '903', tags: ['c', 'd'], timezone: 'Asia/Vladivostok' });

    const [row] = await herald.sql`select * from clients where id = ${client.id}`;
    expect(row).toMatchObject({ phone: client.phone, operator_code: '903', tags: ['c', 'd'], timezone: 'Asia/Vladivostok' });
  });

  it('should clear the tags when given an empty list', async () => {
    const client = await createClient({ tags: ['a'] });
    expect((await updateClient(client.id, { tags: [] })).tags).toEqual([]);
  });

  it('should keep every value when the input is empty', async () => {
    const client = await createClient({ tags: ['keep'] });
    const same = await updateClient(client.id, {});
    expect({ ...same, updatedAt: undefined }).toEqual({ ...client, updatedAt: undefined });
  });

  it('should advance updatedAt and keep createdAt', async () => {
    const client = await createClient();
    await sleep(20);
    const updated = await updateClient(client.id, { timezone: 'UTC' });
    expect(updated.createdAt).toBe(client.createdAt);
    expect(updated.updatedAt).toMatch(ISO_8601);
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(client.updatedAt));
    const [row] = await herald.sql`select updated_at from clients where id = ${client.id}`;
    expect(row.updated_at.toISOString()).toBe(updated.updatedAt);
  });

  describe('changing the phone', () => {
    it('should re-derive the operator code when it was derived from the old phone', async () => {
      const client = await createClient({ phone: phone('916') });
      const updated = await updateClient(client.id, { phone: phone('903') });
      expect(updated.operatorCode).toBe('903');
    });

    it('should keep an operator code set apart from the old phone (a ported number)', async () => {
      const client = await createClient({ phone: phone('916'), operatorCode: '925' });
      const updated = await updateClient(client.id, { phone: phone('903') });
      expect(updated.operatorCode).toBe('925');
    });

    it('should take an operatorCode given in the same update', async () => {
      const derived = await createClient({ phone: phone('916') });
      expect((await updateClient(derived.id, { phone: phone('903'), operatorCode: '999' })).operatorCode).toBe('999');

      const ported = await createClient({ phone: phone('916'), operatorCode: '925' });
      expect((await updateClient(ported.id, { phone: phone('903'), operatorCode: '950' })).operatorCode).toBe('950');
    });

    it('should allow a client to keep its own phone', async () => {
      const client = await createClient({ tags: ['x'] });
      const updated = await updateClient(client.id, { phone: client.phone, tags: ['y'] });
      expect(updated).toMatchObject({ phone: client.phone, operatorCode: client.operatorCode, tags: ['y'] });
    });

    it('should refuse another client\'s phone with CONFLICT and change nothing', async () => {
      const first = await createClient();
      const second = await createClient();
      const res = await expectNothingWritten(() =>
        herald.gql(UPDATE, { id: second.id, input: { phone: first.phone, timezone: 'UTC' } }),
      );
      expectError(res, 'CONFLICT', 'phone');
    });
  });

  it.each(INVALID_INPUTS)('should refuse %s with BAD_USER_INPUT and change nothing', async (_what, wrong, field) => {
    const client = await createClient({ tags: ['before'] });
    const res = await expectNothingWritten(() => herald.gql(UPDATE, { id: client.id, input: { tags: ['after'], ...wrong } }));
    expectError(res, 'BAD_USER_INPUT', field);
  });

  it('should answer NOT_FOUND for a missing id and write nothing', async () => {
    const res = await expectNothingWritten(() => herald.gql(UPDATE, { id: MISSING_ID, input: { timezone: 'UTC' } }));
    expectError(res, 'NOT_FOUND');
  });

  it.each(['abc', '0', '-1', '1.5', ''])('should refuse the malformed id "%s" with BAD_USER_INPUT on field id', async (id) => {
    const res = await expectNothingWritten(() => herald.gql(UPDATE, { id, input: { timezone: 'UTC' } }));
    expectError(res, 'BAD_USER_INPUT', 'id');
  });
});

describe('deleteClient', () => {
  it('should return true and remove the row', async () => {
    const client = await createClient();
    expect(await herald.ok(DELETE, { id: client.id })).toEqual({ deleteClient: true });
    expect(await herald.sql`select id from clients where id = ${client.id}`).toEqual([]);
    expect((await herald.ok(GET, { id: client.id })).client).toBeNull();
  });

  it('should leave the other clients alone', async () => {
    const keep = await createClient();
    const gone = await createClient();
    const before = await herald.sql`select * from clients where id <> ${gone.id} order by id`;
    await herald.ok(DELETE, { id: gone.id });
    expect(await allRows()).toEqual(before);
    expect((await herald.ok(GET, { id: keep.id })).client.id).toBe(keep.id);
  });

  it('should answer NOT_FOUND for a missing id', async () => {
    expectError(await expectNothingWritten(() => herald.gql(DELETE, { id: MISSING_ID })), 'NOT_FOUND');
  });

  it('should answer NOT_FOUND the second time the same client is deleted', async () => {
    const client = await createClient();
    await herald.ok(DELETE, { id: client.id });
    expectError(await herald.gql(DELETE, { id: client.id }), 'NOT_FOUND');
  });

  it('should refuse a malformed id with BAD_USER_INPUT on field id', async () => {
    expectError(await expectNothingWritten(() => herald.gql(DELETE, { id: 'abc' })), 'BAD_USER_INPUT', 'id');
  });

  it('should free the phone for a new client', async () => {
    const client = await createClient();
    await herald.ok(DELETE, { id: client.id });
    const again = await createClient({ phone: client.phone });
    expect(again.id).not.toBe(client.id);
  });
});

describe('client(id)', () => {
  it('should return the client with every field', async () => {
    const client = await createClient({ tags: ['read'], operatorCode: '925', timezone: 'UTC' });
    expect(await herald.ok(GET, { id: client.id })).toEqual({ client });
  });

  it.each([MISSING_ID, '9007199254740991', 'abc', '0', '-5', '99999999999999999999'])('should answer null with no error for the id "%s"', async (id) => {
    const res = await herald.gql(GET, { id });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { client: null } });
  });

  it('should read several clients in one request', async () => {
    const a = await createClient();
    const b = await createClient();
    const data = await herald.ok(`query ($a: ID!, $b: ID!, $c: ID!) { a: client(id: $a) { id phone } b: client(id: $b) { id phone } c: client(id: $c) { id } }`, {
      a: a.id,
      b: b.id,
      c: MISSING_ID,
    });
    expect(data).toEqual({ a: { id: a.id, phone: a.phone }, b: { id: b.id, phone: b.phone }, c: null });
  });
});

describe('clients(first, after, filter)', () => {
  /** n clients sharing a new tag (created one by one, so in id order). */
  async function clientsTagged(n: number, extra: Record<string, unknown> = {}) {
    const tag = uniqueTag('page');
    const created: Client[] = [];
    for (let i = 0; i < n; i++) created.push(await createClient({ tags: [tag], ...extra }));
    return { tag, ids: created.map((c) => c.id) };
  }

  describe('paging', () => {
    it('should answer a Relay connection in id order', async () => {
      const { tag, ids } = await clientsTagged(3);
      const page = await listClients({ filter: { tags: [tag] } });
      expect(page).toEqual({
        edges: ids.map((id) => ({ cursor: expect.any(String), node: { id, phone: expect.any(String), operatorCode: expect.any(String), tags: [tag] } })),
        pageInfo: { hasNextPage: false, endCursor: page.edges[2].cursor },
        totalCount: 3,
      });
      expect(new Set(page.edges.map((e) => e.cursor)).size).toBe(3);
    });

    it('should list every client in ascending id order without a filter', async () => {
      await clientsTagged(2);
      const page = await listClients({ first: 500 });
      const ids = page.edges.map((e) => Number(e.node.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
      const rows = await herald.sql`select id from clients order by id limit 500`;
      expect(ids).toEqual(rows.map((r) => Number(r.id)));
      expect(page.totalCount).toBe(await countRows());
    });

    it('should visit every client exactly once when walking pages with after', async () => {
      const { tag, ids } = await clientsTagged(7);
      const seen: string[] = [];
      const pages: Connection[] = [];
      let after: string | undefined;
      do {
        const page = await listClients({ first: 3, after, filter: { tags: [tag] } });
        pages.push(page);
        seen.push(...page.edges.map((e) => e.node.id));
        expect(page.totalCount).toBe(7);
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor! : undefined;
      } while (after && pages.length < 10);

      expect(seen).toEqual(ids);
      expect(pages.map((p) => p.edges.length)).toEqual([3, 3, 1]);
      expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
      pages.forEach((p) => expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)!.cursor));
    });

    it('should continue after a cursor whose client has since been deleted', async () => {
      const { tag, ids } = await clientsTagged(4);
      const first = await listClients({ first: 2, filter: { tags: [tag] } });
      await herald.ok(DELETE, { id: ids[1] });
      const next = await listClients({ first: 2, after: first.pageInfo.endCursor!, filter: { tags: [tag] } });
      expect(next.edges.map((e) => e.node.id)).toEqual(ids.slice(2));
      expect(next.totalCount).toBe(3);
    });

    it('should give 50 clients a page by default', async () => {
      const { tag, ids } = await clientsTagged(51);
      const page = await listClients({ filter: { tags: [tag] } });
      expect(page.edges.map((e) => e.node.id)).toEqual(ids.slice(0, 50));
      expect(page.pageInfo.hasNextPage).toBe(true);
      expect(page.totalCount).toBe(51);
      const rest = await listClients({ after: page.pageInfo.endCursor!, filter: { tags: [tag] } });
      expect(rest.edges.map((e) => e.node.id)).toEqual(ids.slice(50));
      expect(rest.pageInfo.hasNextPage).toBe(false);
    });

    it('should give no edges but the total count for first: 0', async () => {
      const { tag } = await clientsTagged(2);
      const page = await listClients({ first: 0, filter: { tags: [tag] } });
      expect(page).toEqual({ edges: [], pageInfo: { hasNextPage: true, endCursor: null }, totalCount: 2 });
    });

    it('should accept first: 500', async () => {
      const page = await listClients({ first: 500 });
      expect(page.edges.length).toBe(Math.min(500, await countRows()));
    });

    it.each([
      ['first above 500', { first: 501 }, 'first'],
      ['a negative first', { first: -1 }, 'first'],
      ['a garbage after cursor', { after: 'garbage' }, 'after'],
      ['an empty after cursor', { after: '' }, 'after'],
      ['a cursor naming no id', { after: Buffer.from('id:abc').toString('base64url') }, 'after'],
      ['an invalid operator code in the filter', { filter: { operatorCodes: ['916', '91'] } }, 'filter.operatorCodes'],
      ['more than 100 operator codes in the filter', { filter: { operatorCodes: Array.from({ length: 101 }, (_, i) => String(100 + i)) } }, 'filter.operatorCodes'],
      ['an empty tag in the filter', { filter: { tags: [' '] } }, 'filter.tags'],
    ])('should refuse %s with BAD_USER_INPUT', async (_what, vars, field) => {
      expectError(await herald.gql(LIST, vars), 'BAD_USER_INPUT', field);
    });
  });

  describe('filter', () => {
    it('should match everyone when the filter or its lists are absent or empty', async () => {
      await createClient({ tags: [uniqueTag()] });
      const everyone = await countRows();
      for (const filter of [undefined, {}, { operatorCodes: [], tags: [] }, { tags: [], tagMatch: 'ALL' }]) {
        const page = await listClients({ first: 500, filter });
        expect(page.totalCount).toBe(everyone);
        expect(page.edges.length).toBe(Math.min(500, everyone));
      }
    });

    it('should match clients whose operator code is any of the list', async () => {
      const [c1, c2, c3] = [uniqueCode(), uniqueCode(), uniqueCode()];
      const a = await createClient({ operatorCode: c1 });
      const b = await createClient({ operatorCode: c2 });
      await createClient({ operatorCode: c3 });
      expect(await matchingIds({ operatorCodes: [c1] })).toEqual([a.id]);
      expect(await matchingIds({ operatorCodes: [c1, c2, ` ${c1} `] })).toEqual([a.id, b.id]);
    });

    it('should match the operator code derived from the phone', async () => {
      const code = uniqueCode();
      const client = await createClient({ phone: phone(code) });
      expect(await matchingIds({ operatorCodes: [code] })).toEqual([client.id]);
    });

    describe('by tags', () => {
      let x: string, y: string, z: string;
      let onlyX: Client, onlyY: Client, both: Client;
      beforeAll(async () => {
        [x, y, z] = [uniqueTag('x'), uniqueTag('y'), uniqueTag('z')];
        onlyX = await createClient({ tags: [x, 'common'] });
        onlyY = await createClient({ tags: [y] });
        both = await createClient({ tags: [y, x] });
        await createClient({ tags: [z] });
      });

      it('should match clients having any of the tags by default', async () => {
        expect(await matchingIds({ tags: [x, y] })).toEqual([onlyX.id, onlyY.id, both.id]);
        expect(await matchingIds({ tags: [x] })).toEqual([onlyX.id, both.id]);
      });

      it('should match clients having any of the tags with tagMatch ANY', async () => {
        expect(await matchingIds({ tags: [x, y], tagMatch: 'ANY' })).toEqual([onlyX.id, onlyY.id, both.id]);
      });

      it('should match only clients having all of the tags with tagMatch ALL', async () => {
        expect(await matchingIds({ tags: [x, y], tagMatch: 'ALL' })).toEqual([both.id]);
        expect(await matchingIds({ tags: [x, y, z], tagMatch: 'ALL' })).toEqual([]);
      });

      it('should trim the filter\'s tags', async () => {
        expect(await matchingIds({ tags: [` ${y} `], tagMatch: 'ALL' })).toEqual([onlyY.id, both.id]);
      });

      it('should match no one for a tag no client has', async () => {
        const page = await listClients({ filter: { tags: [uniqueTag('nobody')] } });
        expect(page).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 });
      });
    });

    it('should require both the operator code and the tags to match', async () => {
      const [code, other] = [uniqueCode(), uniqueCode()];
      const [t1, t2] = [uniqueTag(), uniqueTag()];
      const hit = await createClient({ operatorCode: code, tags: [t1, t2] });
      const anyHit = await createClient({ operatorCode: code, tags: [t2] });
      await createClient({ operatorCode: other, tags: [t1, t2] }); // tags match, code does not
      await createClient({ operatorCode: code, tags: [uniqueTag()] }); // code matches, tags do not

      expect(await matchingIds({ operatorCodes: [code], tags: [t1, t2] })).toEqual([hit.id, anyHit.id]);
      expect(await matchingIds({ operatorCodes: [code], tags: [t1, t2], tagMatch: 'ALL' })).toEqual([hit.id]);
    });

    it('should count only the matching clients in totalCount, whatever the page size', async () => {
      const code = uniqueCode();
      for (let i = 0; i < 5; i++) await createClient({ operatorCode: code });
      const page = await listClients({ first: 2, filter: { operatorCodes: [code] } });
      expect(page.edges).toHaveLength(2);
      expect(page.pageInfo.hasNextPage).toBe(true);
      expect(page.totalCount).toBe(5);
    });
  });

  describe('phone search', () => {
    const SEARCH = `query ($phone: String, $filter: ClientFilterInput) { clients(first: 500, phone: $phone, filter: $filter) { totalCount edges { node { id } } } }`;

    it('should find the clients whose phone contains the digits, within the filter', async () => {
      const code = uniqueCode();
      const a = await createClient({ phone: '79031112233', operatorCode: code });
      const b = await createClient({ phone: '79041112299', operatorCode: code });
      await createClient({ phone: '79051234567', operatorCode: code });
      const found = async (phone: string) =>
        (await herald.ok(SEARCH, { phone, filter: { operatorCodes: [code] } })).clients as { totalCount: number; edges: { node: { id: string } }[] };
      expect((await found('111')).edges.map((e) => e.node.id)).toEqual([a.id, b.id]);
      expect((await found('1112299')).totalCount).toBe(1);
      expect((await found(' ')).totalCount).toBe(3);
    });

    it.each(['12a', '7916123456789', '%'])('should refuse the search "%s" with BAD_USER_INPUT on field phone', async (phone) => {
      expectError(await herald.gql(SEARCH, { phone }), 'BAD_USER_INPUT', 'phone');
    });
  });
});

describe('access', () => {
  it('should let a viewer read clients', async () => {
    const client = await createClient();
    const res = await herald.gql(GET, { id: client.id }, { token: VIEWER_TOKEN });
    expect(res.body).toEqual({ data: { client } });
  });

  it('should refuse a viewer\'s createClient with FORBIDDEN and write nothing', async () => {
    const res = await expectNothingWritten(() =>
      herald.gql(CREATE, { input: { phone: phone(), timezone: 'UTC' } }, { token: VIEWER_TOKEN }),
    );
    expect(res.status).toBe(403);
    expect(onlyError(res).extensions?.code).toBe('FORBIDDEN');
  });

  it('should refuse a request without a token with UNAUTHENTICATED', async () => {
    const res = await herald.gql(LIST, {}, { token: null });
    expect(res.status).toBe(401);
    expect(onlyError(res).extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('log lines', () => {
  const linesAbout = (id: string) => herald.logs.filter((l) => l.clientId === Number(id));

  it('should log creating, updating and deleting a client with clientId as a number', async () => {
    const client = await createClient();
    const id = Number(client.id);
    expect(linesAbout(client.id)).toEqual([expect.objectContaining({ clientId: id, msg: expect.stringMatching(/creat/i) })]);

    await updateClient(client.id, { timezone: 'UTC' });
    expect(linesAbout(client.id).at(-1)).toMatchObject({ clientId: id, msg: expect.stringMatching(/updat/i) });

    await herald.ok(DELETE, { id: client.id });
    expect(linesAbout(client.id).at(-1)).toMatchObject({ clientId: id, msg: expect.stringMatching(/delet/i) });
    expect(linesAbout(client.id)).toHaveLength(3);
    expect(linesAbout(client.id).every((l) => typeof l.clientId === 'number')).toBe(true);
  });

  it('should not log a client change that was refused', async () => {
    const client = await createClient();
    await herald.gql(UPDATE, { id: client.id, input: { timezone: 'Mars/Olympus' } });
    await herald.gql(CREATE, { input: { phone: client.phone, timezone: 'UTC' } });
    expect(linesAbout(client.id)).toHaveLength(1);
  });
});
