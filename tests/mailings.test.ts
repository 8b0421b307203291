import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { onlyError, startTestHerald, VIEWER_TOKEN, type GqlResponse, type TestHerald } from './support/herald';

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(() => herald?.stop());

// ---------------------------------------------------------------------------------------
// Operations and helpers
// ---------------------------------------------------------------------------------------

const MAILING = `
  fragment M on Mailing {
    id text startAt endAt status createdAt updatedAt
    filter { operatorCodes tags tagMatch }
    stats { total pending sent failed expired cancelled byStatus { status count } }
  }`;
const CREATE = `mutation Create($input: CreateMailingInput!) { createMailing(input: $input) { ...M } } ${MAILING}`;
const UPDATE = `mutation Update($id: ID!, $input: UpdateMailingInput!) { updateMailing(id: $id, input: $input) { ...M } } ${MAILING}`;
const DELETE = `mutation Delete($id: ID!) { deleteMailing(id: $id) }`;
const GET = `query Get($id: ID!) { mailing(id: $id) { ...M } } ${MAILING}`;
const LIST = `
  query List($first: Int, $after: String, $status: MailingStatus) {
    mailings(first: $first, after: $after, status: $status) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id status createdAt } }
    }
  }`;
const MESSAGES = `
  query Messages($id: ID!, $first: Int, $after: String, $status: MessageStatus) {
    mailing(id: $id) {
      messages(first: $first, after: $after, status: $status) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges {
          cursor
          node { id status attempts lastError sentAt createdAt mailingId clientId client { id phone } }
        }
      }
    }
  }`;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const INTEGER_ID = /^[1-9][0-9]*$/;
const ZERO_STATS = {
  total: 0,
  pending: 0,
  sent: 0,
  failed: 0,
  expired: 0,
  cancelled: 0,
  byStatus: ['PENDING', 'SENT', 'FAILED', 'EXPIRED', 'CANCELLED', 'SKIPPED', 'DELIVERED', 'UNDELIVERED'].map((status) => ({ status, count: 0 })),
};

/** An instant `ms` from now, whole seconds, as ISO-8601 UTC. */
function fromNow(ms: number): string {
  return new Date(Math.floor((Date.now() + ms) / 1000) * 1000).toISOString();
}

/** The same instant written with a +03:00 offset, e.g. 2031-05-01T12:00:00+03:00. */
function withMoscowOffset(iso: string): string {
  return new Date(new Date(iso).getTime() + 3 * HOUR).toISOString().replace(/\.\d{3}Z$/, '+03:00');
}

function instant(value: string): number {
  return new Date(value).getTime();
}

function validInput(overrides: Record<string, unknown> = {}) {
  return { text: 'Spring sale: 20% off everything', startAt: fromNow(HOUR), endAt: fromNow(DAY), ...overrides };
}

async function createMailing(overrides: Record<string, unknown> = {}) {
  return (await herald.ok(CREATE, { input: validInput(overrides) })).createMailing;
}

async function updateMailing(id: string, input: Record<string, unknown>) {
  return (await herald.ok(UPDATE, { id, input })).updateMailing;
}

async function getMailing(id: string) {
  return (await herald.ok(GET, { id })).mailing;
}

async function countRows(table: 'mailings' | 'messages'): Promise<number> {
  const [{ n }] = await herald.sql`select count(*)::int as n from ${herald.sql(table)}`;
  return n;
}

async function mailingRow(id: string) {
  const [row] = await herald.sql`select * from mailings where id = ${id}`;
  return row;
}

async function setStatus(id: string, status: string) {
  await herald.sql`update mailings set status = ${status} where id = ${id}`;
}

/** A mailing under way, as the dispatcher would leave it: started an hour ago. */
async function createRunningMailing(status = 'RUNNING', overrides: Record<string, unknown> = {}) {
  const mailing = await createMailing(overrides);
  await herald.sql`update mailings set status = ${status}, start_at = ${new Date(instant(fromNow(-HOUR)))} where id = ${mailing.id}`;
  return getMailing(mailing.id);
}

let nextPhone = 79_000_000_000;
async function createClient(tags: string[] = []) {
  const phone = String(++nextPhone);
  const data = await herald.ok(
    `mutation($input: CreateClientInput!) { createClient(input: $input) { id phone } }`,
    { input: { phone, timezone: 'Europe/Moscow', tags } },
  );
  return data.createClient as { id: string; phone: string };
}

type MessageFixture = {
  clientId: string | number;
  status?: string;
  attempts?: number;
  lastError?: string | null;
  sentAt?: Date | null;
  phone?: string;
};

/** Inserts message rows as the (future) audience builder would; returns their ids in order. */
async function insertMessages(mailingId: string, fixtures: MessageFixture[]): Promise<string[]> {
  const ids: string[] = [];
  for (const f of fixtures) {
    const [row] = await herald.sql`
      insert into messages (mailing_id, client_id, phone, status, attempts, last_error, sent_at)
      values (${mailingId}, ${String(f.clientId)}, ${f.phone ?? `7999${String(f.clientId).padStart(7, '0')}`},
              ${f.status ?? 'PENDING'}, ${f.attempts ?? 0}, ${f.lastError ?? null}, ${f.sentAt ?? null})
      returning id`;
    ids.push(row.id);
  }
  return ids;
}

/** Client ids for fixture messages: far above the ids of the few real clients these tests create. */
const NO_SUCH_CLIENT = 1_000_000;

/** `count` PENDING messages, for clients (that do not exist) of their own. */
function pendingFixtures(count: number): MessageFixture[] {
  return Array.from({ length: count }, (_, i) => ({ clientId: NO_SUCH_CLIENT + i + 1 }));
}

/** Waits for an info line with this message carrying the mailing's id as `mailingId`. */
async function expectLogged(msg: string, mailingId: string) {
  await vi.waitFor(() => {
    const line = herald.logs.find((l) => l.msg === msg && String(l.mailingId) === mailingId);
    expect(line, `log line "${msg}" with mailingId ${mailingId}`).toMatchObject({ level: 30, mailingId: Number(mailingId) });
  });
}

function expectUserInputError(res: GqlResponse, field: string) {
  const error = onlyError(res);
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expect(res.body.data ?? null).toBeNull();
  return error;
}

function expectErrorCode(res: GqlResponse, code: string) {
  const error = onlyError(res);
  expect(error.extensions?.code).toBe(code);
  return error;
}

/** Walks a connection page by page from the start, returning every node id seen, in order. */
async function walk(
  fetchPage: (after: string | null) => Promise<{ edges: { cursor: string; node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }>,
): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await fetchPage(after);
    ids.push(...page.edges.map((e) => e.node.id));
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

// ---------------------------------------------------------------------------------------
// createMailing
// ---------------------------------------------------------------------------------------

describe('createMailing', () => {
  it('should return the new mailing with its id, text, period, filter, SCHEDULED status, zero stats and timestamps', async () => {
    const input = validInput({ text: 'Hello from Herald' });
    const before = Date.now();
    const m = await createMailing(input);
    const after = Date.now();

    expect(m.id).toMatch(INTEGER_ID);
    expect(m.text).toBe('Hello from Herald');
    for (const field of ['startAt', 'endAt', 'createdAt', 'updatedAt']) expect(m[field]).toMatch(ISO_8601);
    expect(instant(m.startAt)).toBe(instant(input.startAt));
    expect(instant(m.endAt)).toBe(instant(input.endAt));
    expect(m.filter).toEqual({ operatorCodes: [], tags: [], tagMatch: 'ANY' });
    expect(m.status).toBe('SCHEDULED');
    expect(m.stats).toEqual(ZERO_STATS);
    expect(instant(m.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(instant(m.createdAt)).toBeLessThanOrEqual(after + 1000);
    expect(instant(m.updatedAt)).toBe(instant(m.createdAt));
  });

  it('should store the mailing as a row in PostgreSQL', async () => {
    const input = validInput({ filter: { operatorCodes: ['916'], tags: ['vip'], tagMatch: 'ALL' } });
    const m = await createMailing(input);
    const row = await mailingRow(m.id);
    expect(row).toMatchObject({
      text: input.text,
      filter_operator_codes: ['916'],
      filter_tags: ['vip'],
      filter_tag_match: 'ALL',
      status: 'SCHEDULED',
    });
    expect(row.start_at.getTime()).toBe(instant(input.startAt));
    expect(row.end_at.getTime()).toBe(instant(input.endAt));
  });

  it('should accept instants written with an offset such as +03:00 and return the same instants', async () => {
    const startAt = fromNow(2 * HOUR);
    const endAt = fromNow(2 * DAY);
    const m = await createMailing({ startAt: withMoscowOffset(startAt), endAt: withMoscowOffset(endAt) });
    expect(withMoscowOffset(startAt)).toMatch(/\+03:00$/);
    expect(instant(m.startAt)).toBe(instant(startAt));
    expect(instant(m.endAt)).toBe(instant(endAt));
    expect(m.startAt).toMatch(ISO_8601);
  });

  it('should accept a start in the past as long as the end is still ahead, and answer RUNNING: it starts at once', async () => {
    const tag = `due${Date.now()}`;
    await herald.sql`insert into clients (phone, operator_code, tags, timezone) values ('79990001122', '999', ${[tag]}::text[], 'UTC')`;
    const m = await createMailing({ startAt: fromNow(-DAY), endAt: fromNow(HOUR), filter: { tags: [tag] } });
    expect(m.status).toBe('RUNNING');
    expect(instant(m.startAt)).toBeLessThan(Date.now());
    expect((await getMailing(m.id)).stats).toMatchObject({ total: 1 });
    await herald.ok(DELETE, { id: m.id });
    await herald.sql`delete from clients where phone = '79990001122'`;
  });

  it('should answer COMPLETED for a due mailing that matches nobody', async () => {
    const m = await createMailing({ startAt: fromNow(-DAY), endAt: fromNow(HOUR), filter: { tags: ['nobody-has-this'] } });
    expect(m.status).toBe('COMPLETED');
    expect((await getMailing(m.id)).stats).toMatchObject({ total: 0 });
  });

  it('should trim the text', async () => {
    const m = await createMailing({ text: '  Hello  \n' });
    expect(m.text).toBe('Hello');
  });

  it('should accept the longest text MAX_SEGMENTS (6) allows: 918 GSM-7 characters, 6 parts of 153', async () => {
    const m = await createMailing({ text: 'x'.repeat(918) });
    expect(m.text).toHaveLength(918);
  });

  it('should refuse more than 1000 characters before it counts parts', async () => {
    const own = await herald.gql(CREATE, { input: validInput({ text: 'x'.repeat(1001) }) });
    expect(onlyError(own).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'text' });
    expect(onlyError(own).message).toMatch(/at most 1000 characters/);
  });

  it.each([
    ['absent', undefined, { operatorCodes: [], tags: [], tagMatch: 'ANY' }],
    ['null', null, { operatorCodes: [], tags: [], tagMatch: 'ANY' }],
    ['empty', {}, { operatorCodes: [], tags: [], tagMatch: 'ANY' }],
    ['with tags to trim and deduplicate', { tags: [' vip ', 'vip', 'new', 'new  '] }, { operatorCodes: [], tags: ['vip', 'new'], tagMatch: 'ANY' }],
    ['with codes to deduplicate', { operatorCodes: ['916', '903', '916', ' 903'] }, { operatorCodes: ['916', '903'], tags: [], tagMatch: 'ANY' }],
    ['with tagMatch ALL', { tags: ['a', 'b'], tagMatch: 'ALL' }, { operatorCodes: [], tags: ['a', 'b'], tagMatch: 'ALL' }],
  ])('should normalise a filter that is %s', async (_name, filter, expected) => {
    const m = await createMailing(filter === undefined ? {} : { filter });
    expect(m.filter).toEqual(expected);
    const row = await mailingRow(m.id);
    expect([row.filter_operator_codes, row.filter_tags, row.filter_tag_match]).toEqual([
      expected.operatorCodes,
      expected.tags,
      expected.tagMatch,
    ]);
  });

  it.each([
    ['the text is empty', () => ({ text: '' }), 'text'],
    ['the text is blank', () => ({ text: '  \n\t ' }), 'text'],
    ['the text is over 1000 characters', () => ({ text: 'x'.repeat(1001) }), 'text'],
    ['endAt equals startAt', () => ({ startAt: fromNow(DAY), endAt: fromNow(DAY) }), 'endAt'],
    ['endAt is before startAt', () => ({ startAt: fromNow(2 * DAY), endAt: fromNow(DAY) }), 'endAt'],
    ['endAt is in the past', () => ({ startAt: fromNow(-2 * DAY), endAt: fromNow(-DAY) }), 'endAt'],
    ['an operator code is not 3 digits', () => ({ filter: { operatorCodes: ['916', '91a'] } }), 'filter.operatorCodes'],
    ['an operator code is too long', () => ({ filter: { operatorCodes: ['9160'] } }), 'filter.operatorCodes'],
    ['a tag is blank', () => ({ filter: { tags: ['vip', '   '] } }), 'filter.tags'],
    ['a tag is empty', () => ({ filter: { tags: [''] } }), 'filter.tags'],
  ])('should refuse a mailing where %s with BAD_USER_INPUT naming the field, writing nothing', async (_name, overrides, field) => {
    const before = await countRows('mailings');
    const res = await herald.gql(CREATE, { input: validInput(overrides()) });
    expectUserInputError(res, field);
    expect(await countRows('mailings')).toBe(before);
  });

  it.each(['not-a-date', '2030-02-30T10:00:00Z', '2030-01-01T25:00:00Z', '2030-01-01', ''])(
    'should refuse the invalid DateTime %j as a GraphQL error, writing nothing',
    async (bad) => {
      const before = await countRows('mailings');
      const res = await herald.gql(CREATE, { input: validInput({ startAt: bad }) });
      const error = onlyError(res);
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error.message).toContain('startAt');
      expect(res.body.data ?? null).toBeNull();
      expect(await countRows('mailings')).toBe(before);
    },
  );

  it('should refuse a viewer with FORBIDDEN, writing nothing', async () => {
    const before = await countRows('mailings');
    const res = await herald.gql(CREATE, { input: validInput() }, { token: VIEWER_TOKEN });
    expectErrorCode(res, 'FORBIDDEN');
    expect(await countRows('mailings')).toBe(before);
  });

  it('should log the creation with mailingId as a field', async () => {
    const m = await createMailing();
    await expectLogged('mailing created', m.id);
  });
});

// ---------------------------------------------------------------------------------------
// updateMailing
// ---------------------------------------------------------------------------------------

describe('updateMailing', () => {
  it('should keep every field when the input is empty', async () => {
    const m = await createMailing({ filter: { tags: ['vip'] } });
    const updated = await updateMailing(m.id, {});
    expect(updated).toEqual(m);
  });

  it('should keep the fields that are absent or null', async () => {
    const m = await createMailing({ filter: { operatorCodes: ['916'], tags: ['vip'], tagMatch: 'ALL' } });
    const updated = await updateMailing(m.id, { text: 'Only the text changes', startAt: null, filter: null });
    expect(updated).toMatchObject({
      id: m.id,
      text: 'Only the text changes',
      startAt: m.startAt,
      endAt: m.endAt,
      filter: m.filter,
      status: 'SCHEDULED',
      createdAt: m.createdAt,
    });
  });

  it('should change text, startAt, endAt and filter of a SCHEDULED mailing and bump updatedAt', async () => {
    const m = await createMailing();
    await herald.sql`update mailings set created_at = created_at - interval '1 day', updated_at = updated_at - interval '1 day' where id = ${m.id}`;
    const old = await getMailing(m.id);
    const input = {
      text: ' New text ',
      startAt: fromNow(3 * HOUR),
      endAt: withMoscowOffset(fromNow(3 * DAY)),
      filter: { operatorCodes: ['903', '903'], tags: [' sale '], tagMatch: 'ALL' },
    };
    const updated = await updateMailing(m.id, input);
    expect(updated).toMatchObject({
      id: m.id,
      text: 'New text',
      filter: { operatorCodes: ['903'], tags: ['sale'], tagMatch: 'ALL' },
      status: 'SCHEDULED',
      createdAt: old.createdAt,
    });
    expect(instant(updated.startAt)).toBe(instant(input.startAt));
    expect(instant(updated.endAt)).toBe(instant(input.endAt));
    expect(instant(updated.updatedAt)).toBeGreaterThan(instant(old.updatedAt));

    expect(await getMailing(m.id)).toEqual(updated);
    const row = await mailingRow(m.id);
    expect(row).toMatchObject({ text: 'New text', filter_operator_codes: ['903'], filter_tags: ['sale'], filter_tag_match: 'ALL' });
    expect(row.start_at.getTime()).toBe(instant(input.startAt));
  });

  it('should replace the whole filter, resetting its absent parts', async () => {
    const m = await createMailing({ filter: { operatorCodes: ['916'], tags: ['vip'], tagMatch: 'ALL' } });
    const updated = await updateMailing(m.id, { filter: { tags: ['new'] } });
    expect(updated.filter).toEqual({ operatorCodes: [], tags: ['new'], tagMatch: 'ANY' });
  });

  it.each([
    ['endAt moves before the existing startAt', (m: any) => ({ endAt: new Date(instant(m.startAt) - MINUTE).toISOString() }), 'endAt'],
    ['endAt moves onto the existing startAt', (m: any) => ({ endAt: m.startAt }), 'endAt'],
    ['startAt moves after the existing endAt', (m: any) => ({ startAt: new Date(instant(m.endAt) + MINUTE).toISOString() }), 'endAt'],
    ['endAt moves into the past', () => ({ startAt: fromNow(-2 * DAY), endAt: fromNow(-DAY) }), 'endAt'],
    ['the text is blank', () => ({ text: '   ' }), 'text'],
    ['the text is over 1000 characters', () => ({ text: 'y'.repeat(1001) }), 'text'],
    ['an operator code is invalid', () => ({ filter: { operatorCodes: ['abc'] } }), 'filter.operatorCodes'],
    ['a tag is blank', () => ({ filter: { tags: [' '] } }), 'filter.tags'],
  ])('should refuse an update where %s with BAD_USER_INPUT naming the field, changing nothing', async (_name, input, field) => {
    const m = await createMailing();
    const rowBefore = await mailingRow(m.id);
    const res = await herald.gql(UPDATE, { id: m.id, input: { text: 'changed', ...input(m) } });
    expectUserInputError(res, field);
    expect(await mailingRow(m.id)).toEqual(rowBefore);
  });

  it('should answer NOT_FOUND for an id no mailing has', async () => {
    const res = await herald.gql(UPDATE, { id: '987654321', input: { text: 'x' } });
    expectErrorCode(res, 'NOT_FOUND');
    expect(res.body.data ?? null).toBeNull();
  });

  it.each(['abc', '0', '-1', '1.5', '', '99999999999999999999'])(
    'should refuse the malformed id %j with BAD_USER_INPUT naming id',
    async (id) => {
      const res = await herald.gql(UPDATE, { id, input: { text: 'x' } });
      expectUserInputError(res, 'id');
    },
  );

  it.each(['COMPLETED', 'CANCELLED'])('should refuse any change to a %s mailing with CONFLICT, changing nothing', async (status) => {
    const m = await createMailing();
    await setStatus(m.id, status);
    const rowBefore = await mailingRow(m.id);
    for (const input of [{ text: 'too late' }, { endAt: fromNow(5 * DAY) }, { filter: { tags: ['x'] } }]) {
      const res = await herald.gql(UPDATE, { id: m.id, input });
      expectErrorCode(res, 'CONFLICT');
      expect(res.body.data ?? null).toBeNull();
    }
    expect(await mailingRow(m.id)).toEqual(rowBefore);
  });

  it.each(['RUNNING', 'PAUSED'])('should let a %s mailing change its text and endAt', async (status) => {
    const m = await createRunningMailing(status);
    const endAt = fromNow(4 * DAY);
    const updated = await updateMailing(m.id, { text: 'Extended!', endAt });
    expect(updated).toMatchObject({ text: 'Extended!', status, startAt: m.startAt, filter: m.filter });
    expect(instant(updated.endAt)).toBe(instant(endAt));
    const row = await mailingRow(m.id);
    expect(row.text).toBe('Extended!');
    expect(row.end_at.getTime()).toBe(instant(endAt));
  });

  it.each([
    ['RUNNING', 'its filter', { filter: { tags: ['other'] } }, 'filter'],
    ['RUNNING', 'its filter tag match', { filter: { operatorCodes: ['916'], tags: ['vip'], tagMatch: 'ALL' } }, 'filter'],
    ['RUNNING', 'its filter tags', { filter: { operatorCodes: ['916'], tags: ['vip', 'new'] } }, 'filter'],
    ['RUNNING', 'its filter operator codes', { filter: { operatorCodes: ['916', '903'], tags: ['vip'] } }, 'filter'],
    ['RUNNING', 'its startAt', { startAt: fromNow(2 * HOUR) }, 'startAt'],
    ['PAUSED', 'its filter', { filter: {} }, 'filter'],
    ['PAUSED', 'its startAt', { startAt: fromNow(-3 * HOUR) }, 'startAt'],
  ])('should refuse to let a %s mailing change %s, with BAD_USER_INPUT and nothing changed', async (status, _what, input, field) => {
    const m = await createRunningMailing(status, { filter: { operatorCodes: ['916'], tags: ['vip'] } });
    const rowBefore = await mailingRow(m.id);
    const res = await herald.gql(UPDATE, { id: m.id, input: { text: 'must not be saved', ...input } });
    expectUserInputError(res, field);
    expect(await mailingRow(m.id)).toEqual(rowBefore);
  });

  it('should accept the same filter and startAt sent again unchanged on a RUNNING mailing', async () => {
    const m = await createRunningMailing('RUNNING', { filter: { operatorCodes: ['916', '903'], tags: ['vip', 'new'] } });
    const updated = await updateMailing(m.id, {
      text: 'Still running',
      startAt: withMoscowOffset(m.startAt),
      filter: { operatorCodes: ['903', '916'], tags: [' new', 'vip', 'vip'], tagMatch: 'ANY' },
    });
    expect(updated.text).toBe('Still running');
    expect(updated.status).toBe('RUNNING');
    expect(instant(updated.startAt)).toBe(instant(m.startAt));
    expect(new Set(updated.filter.operatorCodes)).toEqual(new Set(['916', '903']));
    expect(new Set(updated.filter.tags)).toEqual(new Set(['vip', 'new']));
    expect(updated.filter.tagMatch).toBe('ANY');
  });

  it('should log the update with mailingId as a field', async () => {
    const m = await createMailing();
    await updateMailing(m.id, { text: 'logged' });
    await expectLogged('mailing updated', m.id);
  });
});

// ---------------------------------------------------------------------------------------
// deleteMailing
// ---------------------------------------------------------------------------------------

describe('deleteMailing', () => {
  it('should return true and remove the mailing with its messages, leaving other mailings alone', async () => {
    const doomed = await createMailing();
    const kept = await createMailing();
    await insertMessages(doomed.id, pendingFixtures(3));
    await insertMessages(kept.id, pendingFixtures(2));

    expect((await herald.ok(DELETE, { id: doomed.id })).deleteMailing).toBe(true);

    expect(await herald.sql`select id from mailings where id = ${doomed.id}`).toHaveLength(0);
    expect(await herald.sql`select id from messages where mailing_id = ${doomed.id}`).toHaveLength(0);
    expect(await getMailing(doomed.id)).toBeNull();
    expect(await herald.sql`select id from messages where mailing_id = ${kept.id}`).toHaveLength(2);
    expect(await getMailing(kept.id)).not.toBeNull();
  });

  it('should answer NOT_FOUND for an id no mailing has, deleting nothing', async () => {
    await createMailing();
    const before = await countRows('mailings');
    const res = await herald.gql(DELETE, { id: '987654321' });
    expectErrorCode(res, 'NOT_FOUND');
    expect(await countRows('mailings')).toBe(before);
  });

  it('should answer NOT_FOUND when deleting the same mailing twice', async () => {
    const m = await createMailing();
    await herald.ok(DELETE, { id: m.id });
    expectErrorCode(await herald.gql(DELETE, { id: m.id }), 'NOT_FOUND');
  });

  it('should refuse a malformed id with BAD_USER_INPUT naming id', async () => {
    expectUserInputError(await herald.gql(DELETE, { id: 'mailing-1' }), 'id');
  });

  it('should log the deletion with mailingId as a field', async () => {
    const m = await createMailing();
    await herald.ok(DELETE, { id: m.id });
    await expectLogged('mailing deleted', m.id);
  });
});

// ---------------------------------------------------------------------------------------
// mailing(id) and mailings
// ---------------------------------------------------------------------------------------

describe('mailing(id)', () => {
  it('should return the mailing with that id', async () => {
    const m = await createMailing({ filter: { tags: ['vip'] } });
    expect(await getMailing(m.id)).toEqual(m);
  });

  it('should let a viewer read a mailing', async () => {
    const m = await createMailing();
    const res = await herald.gql(GET, { id: m.id }, { token: VIEWER_TOKEN });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.mailing.id).toBe(m.id);
  });

  it.each(['987654321', 'abc', '0', '-3', '1e3', '99999999999999999999'])(
    'should return null without errors for %j, which names no mailing',
    async (id) => {
      const res = await herald.gql(GET, { id });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: { mailing: null } });
    },
  );
});

describe('mailings', () => {
  async function listPage(vars: { first?: number; after?: string | null; status?: string }) {
    return (await herald.ok(LIST, vars)).mailings;
  }

  it('should list mailings newest first', async () => {
    const created = [await createMailing(), await createMailing(), await createMailing()];
    const page = await listPage({ first: 3 });
    expect(page.edges.map((e: any) => e.node.id)).toEqual(created.map((m) => m.id).reverse());
    expect(page.pageInfo.hasNextPage).toBe(true);
  });

  it('should visit every mailing exactly once, newest first, when walking pages with `after`', async () => {
    for (let i = 0; i < 5; i++) await createMailing();
    const expected = (await herald.sql`select id from mailings order by id desc`).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(5);
    const seen = await walk((after) => listPage({ first: 2, after }));
    expect(seen).toEqual(expected);
  });

  it('should report totalCount as every mailing, whatever the page size', async () => {
    await createMailing();
    const total = await countRows('mailings');
    expect((await listPage({ first: 1 })).totalCount).toBe(total);
    expect((await listPage({})).totalCount).toBe(total);
    expect((await listPage({ first: 0 })).totalCount).toBe(total);
  });

  it('should return no edges for first: 0', async () => {
    await createMailing();
    const page = await listPage({ first: 0 });
    expect(page.edges).toEqual([]);
    expect(page.pageInfo.endCursor).toBeNull();
  });

  it('should filter by status, with totalCount and pages of that status only', async () => {
    const paused = [await createMailing(), await createMailing(), await createMailing()];
    for (const m of paused) await setStatus(m.id, 'PAUSED');
    await createMailing();
    const expected = (await herald.sql`select id from mailings where status = 'PAUSED' order by id desc`).map((r) => r.id);
    expect(expected).toEqual(expect.arrayContaining(paused.map((m) => m.id)));

    const seen = await walk((after) => listPage({ first: 2, after, status: 'PAUSED' }));
    expect(seen).toEqual(expected);
    const page = await listPage({ status: 'PAUSED' });
    expect(page.totalCount).toBe(expected.length);
    expect(page.edges.every((e: any) => e.node.status === 'PAUSED')).toBe(true);
  });

  it('should return an empty page for a status no mailing has', async () => {
    await herald.sql`update mailings set status = 'SCHEDULED' where status = 'CANCELLED'`;
    const page = await listPage({ status: 'CANCELLED' });
    expect(page).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
  });

  it('should accept first: 500', async () => {
    const res = await herald.gql(LIST, { first: 500 });
    expect(res.body.errors).toBeUndefined();
  });

  it.each([501, 10_000, -1])('should refuse first: %d with BAD_USER_INPUT naming first', async (first) => {
    expectUserInputError(await herald.gql(LIST, { first }), 'first');
  });

  it('should refuse a cursor it never returned with BAD_USER_INPUT naming after', async () => {
    expectUserInputError(await herald.gql(LIST, { after: 'not-a-cursor' }), 'after');
  });
});

// ---------------------------------------------------------------------------------------
// Mailing.messages
// ---------------------------------------------------------------------------------------

describe('Mailing.messages', () => {
  async function messagesPage(id: string, vars: { first?: number; after?: string | null; status?: string } = {}) {
    return (await herald.ok(MESSAGES, { id, ...vars })).mailing.messages;
  }

  it('should list a mailing\'s messages in id order, and only its own', async () => {
    const m = await createMailing();
    const other = await createMailing();
    const ids = await insertMessages(m.id, [30, 10, 20].map((n) => ({ clientId: NO_SUCH_CLIENT + n })));
    await insertMessages(other.id, [{ clientId: NO_SUCH_CLIENT + 10 }]);
    const page = await messagesPage(m.id);
    expect(page.edges.map((e: any) => e.node.id)).toEqual(ids);
    expect(page.edges.map((e: any) => e.node.clientId)).toEqual([30, 10, 20].map((n) => String(NO_SUCH_CLIENT + n)));
    expect(page.totalCount).toBe(3);
    expect(page.pageInfo.hasNextPage).toBe(false);
  });

  it('should visit every message exactly once when walking pages with `after`', async () => {
    const m = await createMailing();
    const ids = await insertMessages(m.id, pendingFixtures(7));
    const seen = await walk((after) => messagesPage(m.id, { first: 3, after }));
    expect(seen).toEqual(ids);
    expect((await messagesPage(m.id, { first: 3 })).totalCount).toBe(7);
  });

  it('should filter by status, with totalCount and pages of that status only', async () => {
    const m = await createMailing();
    const statuses = ['PENDING', 'SENT', 'FAILED', 'SENT', 'EXPIRED', 'SENT', 'CANCELLED', 'PENDING'];
    const ids = await insertMessages(m.id, statuses.map((status, i) => ({ clientId: NO_SUCH_CLIENT + i + 1, status })));
    const sentIds = ids.filter((_, i) => statuses[i] === 'SENT');

    const seen = await walk((after) => messagesPage(m.id, { first: 2, after, status: 'SENT' }));
    expect(seen).toEqual(sentIds);
    const page = await messagesPage(m.id, { status: 'SENT' });
    expect(page.totalCount).toBe(3);
    expect(page.edges.every((e: any) => e.node.status === 'SENT')).toBe(true);
    expect((await messagesPage(m.id, { status: 'FAILED' })).totalCount).toBe(1);
    expect(await messagesPage(m.id)).toMatchObject({ totalCount: statuses.length });
  });

  it('should return an empty connection for a mailing without messages', async () => {
    const m = await createMailing();
    expect(await messagesPage(m.id)).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
  });

  it('should show every field of a message as stored', async () => {
    const m = await createMailing();
    const sentAt = new Date(Date.now() - 5 * MINUTE);
    const [failedId, sentId] = await insertMessages(m.id, [
      { clientId: NO_SUCH_CLIENT + 41, status: 'FAILED', attempts: 3, lastError: 'gateway: 400 invalid phone' },
      { clientId: NO_SUCH_CLIENT + 42, status: 'SENT', attempts: 1, sentAt },
    ]);
    const rows = await herald.sql`select id, created_at from messages where mailing_id = ${m.id} order by id`;
    const nodes = (await messagesPage(m.id)).edges.map((e: any) => e.node);

    expect(nodes).toEqual([
      {
        id: failedId,
        status: 'FAILED',
        attempts: 3,
        lastError: 'gateway: 400 invalid phone',
        sentAt: null,
        createdAt: rows[0].created_at.toISOString(),
        mailingId: m.id,
        clientId: String(NO_SUCH_CLIENT + 41),
        client: null,
      },
      {
        id: sentId,
        status: 'SENT',
        attempts: 1,
        lastError: null,
        sentAt: sentAt.toISOString(),
        createdAt: rows[1].created_at.toISOString(),
        mailingId: m.id,
        clientId: String(NO_SUCH_CLIENT + 42),
        client: null,
      },
    ]);
    for (const node of nodes) {
      expect(node.id).toMatch(INTEGER_ID);
      expect(node.createdAt).toMatch(ISO_8601);
    }
  });

  it('should resolve each message\'s client, and show null once the client is deleted while keeping the message', async () => {
    const m = await createMailing();
    const alice = await createClient(['vip']);
    const bob = await createClient();
    const [aliceMsg, bobMsg] = await insertMessages(m.id, [
      { clientId: alice.id, phone: alice.phone, status: 'SENT', attempts: 1, sentAt: new Date() },
      { clientId: bob.id, phone: bob.phone },
    ]);

    let nodes = (await messagesPage(m.id)).edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => n.client)).toEqual([
      { id: alice.id, phone: alice.phone },
      { id: bob.id, phone: bob.phone },
    ]);

    const deleted = await herald.ok(`mutation($id: ID!) { deleteClient(id: $id) }`, { id: alice.id });
    expect(deleted.deleteClient).toBe(true);

    const page = await messagesPage(m.id);
    nodes = page.edges.map((e: any) => e.node);
    expect(page.totalCount).toBe(2);
    expect(nodes[0]).toMatchObject({ id: aliceMsg, clientId: alice.id, status: 'SENT', attempts: 1, client: null });
    expect(nodes[0].sentAt).toMatch(ISO_8601);
    expect(nodes[1]).toMatchObject({ id: bobMsg, client: { id: bob.id, phone: bob.phone } });
    expect(await herald.sql`select phone, status from messages where id = ${aliceMsg}`).toEqual([{ phone: alice.phone, status: 'SENT' }]);
    expect((await getMailing(m.id)).stats).toMatchObject({ total: 2, sent: 1, pending: 1 });
  });

  it.each([501, -1])('should refuse first: %d with BAD_USER_INPUT naming first', async (first) => {
    const m = await createMailing();
    const res = await herald.gql(MESSAGES, { id: m.id, first });
    expect(onlyError(res).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('should keep one message per client per mailing: a duplicate row fails in PostgreSQL', async () => {
    const m = await createMailing();
    const other = await createMailing();
    await insertMessages(m.id, [{ clientId: NO_SUCH_CLIENT + 77 }]);
    await expect(insertMessages(m.id, [{ clientId: NO_SUCH_CLIENT + 77, status: 'SENT' }])).rejects.toMatchObject({
      code: '23505',
      // The key of its partition (drizzle/0014): messages_mailing_client_key's copy there.
      constraint_name: expect.stringMatching(/^messages_p\d+_mailing_client_key$/),
    });
    // the same client in another mailing is fine
    await insertMessages(other.id, [{ clientId: NO_SUCH_CLIENT + 77 }]);
    expect(await herald.sql`select status from messages where mailing_id = ${m.id}`).toEqual([{ status: 'PENDING' }]);
  });
});
