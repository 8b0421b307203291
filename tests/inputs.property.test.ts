import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestHerald, type GqlResponse, type TestHerald } from './support/herald';

/**
 * Every mutation, fed generated inputs over HTTP (control characters, huge strings, odd
 * Unicode, wrong types through variables, boundary numbers and dates): the answer is data or
 * errors that each carry a code Herald gives out, never INTERNAL_SERVER_ERROR and never an
 * uncoded error; and an input that is refused changes nothing (row counts and contents of
 * the tables it could touch, before and after).
 *
 * An api-only Herald (no dispatcher, no timers): nothing changes the tables but the
 * mutations under test, so "before" and "after" compare what one request did.
 */
const RUNS = Number(process.env.HERALD_PROPERTY_RUNS ?? 50);

const CODES = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'FORBIDDEN',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
]);

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald({ role: 'api' });
}, 60_000);

/** A client, a scheduled, a running and a paused mailing, whose ids the generators use. */
beforeEach(async () => {
  const iso = (ms: number) => new Date(Date.now() + ms).toISOString();
  const create = `mutation($input: CreateMailingInput!) { createMailing(input: $input) { id } }`;
  const client = await herald.ok(`mutation($p: String!) { createClient(input: { phone: $p, timezone: "UTC", tags: ["a"] }) { id } }`, { p: String(79_160_000_000 + ++made) });
  const scheduled = await herald.ok(create, { input: { text: 'Scheduled', startAt: iso(3_600_000), endAt: iso(7_200_000) } });
  const running = await herald.ok(create, { input: { text: 'Running', startAt: iso(-1_000), endAt: iso(7_200_000) } });
  const paused = await herald.ok(create, { input: { text: 'Paused', startAt: iso(-1_000), endAt: iso(7_200_000) } });
  await herald.ok(`mutation($id: ID!) { pauseMailing(id: $id) { id } }`, { id: paused.createMailing.id });
  ids.splice(0, ids.length, client.createClient.id, scheduled.createMailing.id, running.createMailing.id, paused.createMailing.id);
});
afterAll(() => herald?.stop());

// ----------------------------------------------------------------------------------------
// Generators

const C0 = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).concat('\u007f');
const control = fc.constantFrom(...C0);
const odd = fc.constantFrom('\ud800', 'a\udfff', '\u202e', '\ufeff', '\u200b', '𝔘𝔫𝔦', '👩‍👩‍👧', 'é', 'Ω', '\u0301', '"', '\\', "'; drop table clients; --", '{{name}}', '{{attributes.', '{{nope}}', '%s', '${x}');
const huge = fc.constantFrom('x'.repeat(100_000), '7'.repeat(5_000), 'é'.repeat(3_000), '{{name}}'.repeat(500));
/** Strings of every kind: plain, with control characters, odd Unicode, huge. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.array(fc.oneof(control, odd, fc.string({ maxLength: 5 })), { maxLength: 8 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: huge },
);
/** Mostly a valid value, at times a wild one: deep paths are reached, and the edges still tried. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, wild: fc.Arbitrary<U>) => fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: wild });
const validPhone = fc.bigInt({ min: 70_000_000_000n, max: 79_999_999_999n }).map(String);
const phone = mostly(validPhone, fc.oneof(fc.constantFrom('89161234567', '7916123456', '+79161234567', ' 79161234567 ', '7916123456\u00007', ''), text));
const timezone = mostly(fc.constantFrom('UTC', 'Europe/Moscow', 'europe/moscow', 'Asia/Vladivostok', 'Etc/GMT+14'), fc.oneof(fc.constantFrom('Mars/Base', '+03:00', ''), text));
const word = fc.stringMatching(/^[a-z]{1,8}$/);
const tags = mostly(
  fc.array(word, { maxLength: 5 }),
  fc.oneof(fc.array(fc.oneof(fc.constantFrom('vip', ' b ', ''), text), { maxLength: 25 }), fc.constant(Array.from({ length: 1_000 }, (_, i) => `t${i}`))),
);
/** Dates: ordinary, boundaries, out of range, malformed, and values of other types. */
const at = (min: number, max: number) => fc.integer({ min, max }).map((ms) => new Date(Date.now() + ms).toISOString());
const wildDate = fc.oneof(
  at(-30 * 86_400_000, 30 * 86_400_000),
  fc.constantFrom('9999-12-31T23:59:59.999Z', '0000-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '2024-02-30T10:00:00Z', '2024-13-45', 'tomorrow', '', '275760-09-13T00:00:00Z'),
  fc.constantFrom(0, -1, 8.64e15, 1e300, true, [], {}),
);
const startAt = mostly(at(60_000, 3_600_000), wildDate);
const endAt = mostly(at(7_200_000, 30 * 86_400_000), wildDate);
const number = mostly(fc.double({ min: 0.01, max: 1, noNaN: true }), fc.oneof(fc.double(), fc.constantFrom(0, -0, 1e-300, 1.0000001, 2 ** 53, -(2 ** 31), 1e308), fc.constantFrom('0.5', null, true)));
/** IDs: real ones (made afresh for each mutation), missing ones, and everything an ID is not. */
const ids: string[] = [];
let made = 0;
const id = () =>
  mostly(
    fc.integer({ min: 0, max: 1_000 }).map((i) => ids[i % ids.length]),
    fc.oneof(
      fc.constantFrom('0', '-1', '1.5', '99999999999999999999', '9223372036854775808', 'abc', '', ' 1', '1\u0000', 2 ** 53, -1, 1.5),
      fc.integer({ min: 1, max: 100_000 }),
      text,
    ),
  );
/** Anything a variable can be: for the wrong types. */
const anything = fc.jsonValue({ maxDepth: 3 });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
const orWrong = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: arb }, { weight: 1, arbitrary: anything });
const name = mostly(fc.string({ maxLength: 20 }), text);
const mailingText = mostly(fc.constantFrom('Hello', 'Hi {{name|friend}}', 'Line one\nLine\ttwo', 'Код {{attributes.code}}'), text);

const clientInput = fc.record(
  {
    phone: orWrong(phone),
    timezone: orWrong(timezone),
    operatorCode: maybe(orWrong(mostly(fc.stringMatching(/^[0-9]{3}$/), fc.oneof(fc.constantFrom('12', '1234', 'abc'), text)))),
    tags: maybe(orWrong(tags)),
    name: maybe(orWrong(name)),
    attributes: maybe(orWrong(mostly(fc.dictionary(word, fc.string({ maxLength: 10 }), { maxKeys: 3 }), fc.dictionary(fc.oneof(word, text), fc.oneof(text, anything), { maxKeys: 25 })))),
  },
  { requiredKeys: [] },
);
const filter = fc.record(
  { operatorCodes: maybe(fc.array(orWrong(mostly(fc.stringMatching(/^[0-9]{3}$/), text)), { maxLength: 3 })), tags: maybe(orWrong(tags)), tagMatch: maybe(fc.constantFrom('ANY', 'ALL', 'SOME', 'any')) },
  { requiredKeys: [] },
);
const mailingInput = fc.record(
  {
    text: orWrong(mailingText),
    startAt,
    endAt,
    name: maybe(orWrong(name)),
    filter: maybe(orWrong(filter)),
    sendWindow: maybe(orWrong(fc.record({ from: mostly(fc.constantFrom('09:00', '23:59', '00:00'), fc.oneof(fc.constantFrom('24:00', '9:00'), text)), to: mostly(fc.constantFrom('21:00', '08:00'), fc.oneof(fc.constantFrom('09:00', '-1:00'), text)) }))),
    frequencyCap: maybe(orWrong(mostly(fc.constantFrom('2/24h', '1/1d', '10/30m'), fc.oneof(fc.constantFrom('0/1h', '1/0s', '999999999999/1d', '2/24'), text)))),
    maxFailureRate: maybe(number),
  },
  { requiredKeys: [] },
);

// Creations with their required fields there, mostly (a missing one is tried too).
const newClient = fc.oneof({ weight: 5, arbitrary: fc.tuple(fc.record({ phone: orWrong(phone), timezone: orWrong(timezone) }), clientInput).map(([a, b]) => ({ ...b, ...a })) }, { weight: 1, arbitrary: clientInput });
const newMailing = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.record({ text: orWrong(mailingText), startAt, endAt }), mailingInput).map(([a, b]) => ({ ...b, ...a })) },
  { weight: 1, arbitrary: mailingInput },
);

type Case = { name: string; query: string; variables: fc.Arbitrary<Record<string, unknown>> };

const MUTATIONS: Case[] = [
  { name: 'createClient', query: `mutation($input: CreateClientInput!) { createClient(input: $input) { id } }`, variables: fc.record({ input: orWrong(newClient) }) },
  {
    name: 'updateClient',
    query: `mutation($id: ID!, $input: UpdateClientInput!) { updateClient(id: $id, input: $input) { id } }`,
    variables: fc.record({ id: id(), input: orWrong(clientInput) }),
  },
  { name: 'deleteClient', query: `mutation($id: ID!) { deleteClient(id: $id) }`, variables: fc.record({ id: id() }) },
  {
    name: 'importClients',
    query: `mutation($input: [CreateClientInput!]!) { importClients(input: $input) { imported failed errors { index code } } }`,
    variables: fc.record({ input: orWrong(fc.array(orWrong(newClient), { maxLength: 20 })) }),
  },
  { name: 'optOut', query: `mutation($phone: String!, $reason: String) { optOut(phone: $phone, reason: $reason) }`, variables: fc.record({ phone: orWrong(phone), reason: maybe(orWrong(text)) }) },
  { name: 'optIn', query: `mutation($phone: String!) { optIn(phone: $phone) }`, variables: fc.record({ phone: orWrong(phone) }) },
  { name: 'createMailing', query: `mutation($input: CreateMailingInput!) { createMailing(input: $input) { id } }`, variables: fc.record({ input: orWrong(newMailing) }) },
  {
    name: 'updateMailing',
    query: `mutation($id: ID!, $input: UpdateMailingInput!) { updateMailing(id: $id, input: $input) { id } }`,
    variables: fc.record({ id: id(), input: orWrong(mailingInput) }),
  },
  {
    name: 'duplicateMailing',
    query: `mutation($id: ID!, $startAt: DateTime, $endAt: DateTime) { duplicateMailing(id: $id, startAt: $startAt, endAt: $endAt) { id } }`,
    variables: fc.record({ id: id(), startAt: maybe(startAt), endAt: maybe(endAt) }, { requiredKeys: ['id'] }),
  },
  { name: 'pauseMailing', query: `mutation($id: ID!) { pauseMailing(id: $id) { id } }`, variables: fc.record({ id: id() }) },
  { name: 'resumeMailing', query: `mutation($id: ID!) { resumeMailing(id: $id) { id } }`, variables: fc.record({ id: id() }) },
  { name: 'retryFailed', query: `mutation($id: ID!) { retryFailed(mailingId: $id) { id } }`, variables: fc.record({ id: id() }) },
  { name: 'cancelMailing', query: `mutation($id: ID!) { cancelMailing(id: $id) { id } }`, variables: fc.record({ id: id() }) },
  { name: 'deleteMailing', query: `mutation($id: ID!) { deleteMailing(id: $id) }`, variables: fc.record({ id: id() }) },
  { name: 'testSend', query: `mutation($phone: String!, $text: String!) { testSend(phone: $phone, text: $text) { id } }`, variables: fc.record({ phone: orWrong(phone), text: orWrong(text) }) },
];

// ----------------------------------------------------------------------------------------

/** What a mutation could have changed: each table's row count and a digest of its rows. */
async function state(): Promise<Record<string, string>> {
  const [row] = await herald.sql`
    select
      (select count(*) || ':' || coalesce(md5(string_agg(c::text, ',' order by c.id)), '') from clients c) as clients,
      (select count(*) || ':' || coalesce(md5(string_agg(m::text, ',' order by m.id)), '') from mailings m) as mailings,
      (select count(*)::text from opt_outs) as opt_outs,
      (select count(*)::text from test_sends) as test_sends,
      (select count(*)::text from audiences) as audiences,
      (select count(*)::text from messages) as messages`;
  return row as Record<string, string>;
}

function codesOf(res: GqlResponse): string[] {
  return (res.body.errors ?? []).map((e) => String(e.extensions?.code ?? 'NO CODE'));
}

describe('every mutation under generated input', () => {
  it.each(MUTATIONS.map((m) => [m.name, m] as const))('%s: answers data or a coded error, and a refusal changes nothing', async (_name, mutation) => {
    let answered = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(mutation.variables, async (variables) => {
        const before = await state();
        const res = await herald.gql(mutation.query, variables);
        const codes = codesOf(res);
        for (const code of codes) expect(CODES, `${code} for ${JSON.stringify(variables).slice(0, 500)}: ${JSON.stringify(res.body).slice(0, 500)}`).toContain(code);
        expect(res.status).toBeLessThan(500);
        if (codes.length > 0) {
          refused++;
          expect(await state(), `refused, yet something changed: ${JSON.stringify(variables).slice(0, 500)}`).toEqual(before);
        } else {
          answered++;
          expect(res.body.data).toBeTruthy();
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    // How far the generators reach past the refusals (most inputs are refused, by design).
    console.info(`${mutation.name}: ${answered} answered, ${refused} refused`);
  }, 60_000);
});
