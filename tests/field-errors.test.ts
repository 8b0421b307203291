import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyError, startTestHerald, type TestHerald } from './support/herald';

/**
 * Issue 20, items 3 and 6: one bad input is refused with every problem it has at once
 * (`extensions.fields`), the first still as `extensions.field` and the message; a mistyped
 * time zone gets a suggestion; a date without an offset names the form expected.
 */
let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(() => herald?.stop());

const CREATE_MAILING = `mutation($input: CreateMailingInput!) { createMailing(input: $input) { id } }`;
const UPDATE_MAILING = `mutation($id: ID!, $input: UpdateMailingInput!) { updateMailing(id: $id, input: $input) { id } }`;
const CREATE_CLIENT = `mutation($input: CreateClientInput!) { createClient(input: $input) { id phone } }`;
const UPDATE_CLIENT = `mutation($id: ID!, $input: UpdateClientInput!) { updateClient(id: $id, input: $input) { id } }`;
const CREATE_WEBHOOK = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret } }`;
const count = async (table: string) => (await herald.sql.unsafe(`select count(*)::int as n from ${table}`))[0].n as number;
const fromNow = (ms: number) => new Date(Date.now() + ms).toISOString();
const HOUR = 3_600_000;
let phone = 79_510_000_000 + Math.floor(Math.random() * 1_000_000);
const nextPhone = () => String(phone++);
const fieldsOf = (error: { extensions?: Record<string, unknown> }) => (error.extensions!.fields as { field: string; message: string }[]).map((f) => f.field);

describe('every problem of one input at once', () => {
  it('should report the empty text and the end before the start of one mailing together, the first as field', async () => {
    const before = await count('mailings');
    const error = onlyError(
      await herald.gql(CREATE_MAILING, {
        input: { text: '   ', startAt: fromNow(2 * HOUR), endAt: fromNow(HOUR), filter: { operatorCodes: ['91a'], tags: [''] }, sendWindow: { from: '25:00', to: '21:00' }, maxFailureRate: 7, frequencyCap: 'often' },
      }),
    );
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.extensions?.field).toBe('text');
    expect(error.message).toBe('text: must not be empty');
    expect(error.extensions?.fields).toEqual(
      expect.arrayContaining([
        { field: 'text', message: 'must not be empty' },
        { field: 'endAt', message: 'must be after startAt' },
      ]),
    );
    expect(fieldsOf(error)).toEqual(['text', 'endAt', 'filter.operatorCodes', 'filter.tags', 'sendWindow.from', 'frequencyCap', 'maxFailureRate']);
    expect(await count('mailings')).toBe(before);
  });

  it('should report both bad dates of one mailing, and an update\'s problems together', async () => {
    const both = onlyError(await herald.gql(CREATE_MAILING, { input: { text: 'Hi', startAt: '0000-01-01T00:00:00Z', endAt: '1960-01-01T00:00:00Z' } }));
    expect(fieldsOf(both)).toEqual(['startAt', 'endAt']);
    const { createMailing } = await herald.ok(CREATE_MAILING, { input: { text: 'Hi', startAt: fromNow(HOUR), endAt: fromNow(2 * HOUR) } });
    const update = onlyError(await herald.gql(UPDATE_MAILING, { id: createMailing.id, input: { text: '', maxFailureRate: 0, startAt: fromNow(3 * HOUR), endAt: fromNow(2 * HOUR) } }));
    expect(update.extensions?.field).toBe('text');
    expect(fieldsOf(update)).toEqual(['text', 'maxFailureRate', 'endAt']);
  });

  it('should report a client\'s three bad fields in one answer, and write nothing', async () => {
    const before = await count('clients');
    const error = onlyError(await herald.gql(CREATE_CLIENT, { input: { phone: '8916', operatorCode: '9x', timezone: 'Europe/Moskow' } }));
    expect(error.extensions?.field).toBe('phone');
    expect(error.message).toBe('phone: must be 7 followed by 10 digits, e.g. 79161234567');
    expect(error.extensions?.fields).toEqual([
      { field: 'phone', message: 'must be 7 followed by 10 digits, e.g. 79161234567' },
      { field: 'operatorCode', message: 'must be exactly 3 digits' },
      { field: 'timezone', message: 'unknown time zone "Europe/Moskow"; did you mean "Europe/Moscow"?' },
    ]);
    expect(await count('clients')).toBe(before);
    const { createClient } = await herald.ok(CREATE_CLIENT, { input: { phone: nextPhone(), timezone: 'UTC' } });
    const update = onlyError(await herald.gql(UPDATE_CLIENT, { id: createClient.id, input: { phone: '7', tags: [''], timezone: 'Nowhere' } }));
    expect(fieldsOf(update)).toEqual(['phone', 'tags', 'timezone']);
  });

  it('should report a webhook\'s bad URL and events together', async () => {
    const error = onlyError(await herald.gql(CREATE_WEBHOOK, { input: { url: 'not a url', events: [] } }));
    expect(fieldsOf(error)).toEqual(['url', 'events']);
  });

  it('should keep createClient strict about the phone\'s form', async () => {
    for (const typed of ['+7 916 555-44-33', '8 (916) 555-44-33', '89165554433']) {
      const error = onlyError(await herald.gql(CREATE_CLIENT, { input: { phone: typed, timezone: 'UTC' } }));
      expect(error.extensions?.field).toBe('phone');
    }
  });
});

describe('time zones and dates as people type them', () => {
  it('should suggest the closest IANA name for a mistyped time zone', async () => {
    const error = onlyError(await herald.gql(CREATE_CLIENT, { input: { phone: nextPhone(), timezone: 'Europe/Moskow' } }));
    expect(error.message).toBe('timezone: unknown time zone "Europe/Moskow"; did you mean "Europe/Moscow"?');
    const far = onlyError(await herald.gql(CREATE_CLIENT, { input: { phone: nextPhone(), timezone: 'Mars/Olympus' } }));
    expect(far.message).toBe('timezone: must be an IANA time zone name, e.g. Europe/Moscow');
  });

  it('should refuse a date without an offset naming the expected form, as the field of the input', async () => {
    const before = await count('mailings');
    const error = onlyError(await herald.gql(CREATE_MAILING, { input: { text: 'Hi', startAt: '2027-01-02T10:00:00', endAt: fromNow(HOUR) } }));
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.extensions?.field).toBe('startAt');
    expect(error.message).toContain('2027-01-02T10:00:00Z or 2027-01-02T10:00:00+03:00');
    const literal = onlyError(await herald.gql(`mutation { createMailing(input: { text: "Hi", startAt: "2027-01-02T10:00", endAt: "2027-01-03T10:00:00Z" }) { id } }`));
    expect(literal.message).toContain('2027-01-02T10:00:00Z or 2027-01-02T10:00:00+03:00');
    expect(await count('mailings')).toBe(before);
    // With an offset it is a DateTime as before.
    await herald.ok(CREATE_MAILING, { input: { text: 'Hi', startAt: fromNow(HOUR).replace('Z', '+00:00'), endAt: fromNow(2 * HOUR) } });
  });
});
