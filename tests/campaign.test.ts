import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR, type GatewaySimulator } from '../src/gateway/simulator';
import { CREATE_MAILING, inMs, insertClients, mailingState, phonesOf, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { onlyError, startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';
import { subscribe } from './support/live';
import { sleep, waitFor } from './support/wait';

/**
 * What an operator of SMS campaigns expects beyond sending: opt-outs, personalised texts,
 * their cost, test sends, retries of the failed, a mailing that stops itself when its
 * messages keep failing, names. Over real HTTP against the gateway simulator.
 */
let herald: TestHerald;
let gateway: GatewaySimulator;

// One request at a time, 40 ms each: a mailing of 30 takes over a second, so a test can act
// while the last clients are still ahead of it.
beforeAll(async () => {
  const gw = await startTestGateway({ latencyMs: 40 });
  gateway = gw.simulator;
  herald = await startTestHerald({ ...gw.config, dispatch: { concurrency: 1 } });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});
afterEach(() => gateway.set({ ...DEFAULT_BEHAVIOUR, latencyMs: 40 }));

const tagged = () => `k${Math.random().toString(36).slice(2, 10)}`;
const sentTo = (phones: Set<number>) => gateway.received.filter((r) => phones.has(Number(r.phone)));
const phoneOf = async (clientId: number) => String([...(await phonesOf(herald, [clientId]))][0]);

async function mailingFor(tag: string, input: Record<string, unknown> = {}) {
  const data = await herald.ok(CREATE_MAILING, { input: { text: 'Hi', startAt: inMs(-1000), endAt: inMs(60_000), filter: { tags: [tag] }, ...input } });
  return data.createMailing as { id: string; status: string };
}

const OPT_OUT = `mutation($phone: String!, $reason: String) { optOut(phone: $phone, reason: $reason) }`;
const OPT_IN = `mutation($phone: String!) { optIn(phone: $phone) }`;

describe('opt-outs', () => {
  it('should leave a phone opted out before the start out of the audience: no message, not in the total', async () => {
    const tag = tagged();
    const ids = await insertClients(herald, 5, { tags: [tag] });
    const out = await phoneOf(ids[2]);
    expect((await herald.ok(OPT_OUT, { phone: out, reason: 'STOP by SMS' })).optOut).toBe(true);
    expect((await herald.ok(`query($f: ClientFilterInput!) { audiencePreview(filter: $f) }`, { f: { tags: [tag] } })).audiencePreview).toBe(4);

    const mailing = await mailingFor(tag);
    const done = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 10_000);
    expect(done.stats).toMatchObject({ total: 4, sent: 4 });
    expect(sentTo(new Set([Number(out)]))).toEqual([]);
    expect(await herald.sql`select id from messages where mailing_id = ${mailing.id} and client_id = ${ids[2]}`).toEqual([]);
  });

  it('should skip, with the reason, the message of a phone that opts out after the start, and send it nothing', async () => {
    const tag = tagged();
    const ids = await insertClients(herald, 30, { tags: [tag] });
    const last = await phoneOf(ids.at(-1)!);
    const mailing = await mailingFor(tag);
    const progress = subscribe<{ mailingProgress: { status: string; stats: { skipped: number; sent: number } } }>(
      herald.url,
      'subscription($id: ID!) { mailingProgress(mailingId: $id) { status stats { sent skipped } } }',
      { id: mailing.id },
    );
    await herald.ok(OPT_OUT, { phone: last });
    const done = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 10_000);
    expect(done.stats).toMatchObject({ total: 30, sent: 29 });
    await progress.finished;
    expect(progress.events.at(-1)?.data.mailingProgress).toEqual({ status: 'COMPLETED', stats: { sent: 29, skipped: 1 } });
    const stats = (await herald.ok(`query($id: ID!) { mailing(id: $id) { stats { skipped byStatus { status count } } } }`, { id: mailing.id })).mailing.stats;
    expect(stats.skipped).toBe(1);
    expect(stats.byStatus).toContainEqual({ status: 'SKIPPED', count: 1 });
    const [row] = await herald.sql`select status, last_error, attempts from messages where mailing_id = ${mailing.id} and client_id = ${ids.at(-1)!}`;
    expect(row).toEqual({ status: 'SKIPPED', last_error: 'opted out', attempts: 0 });
    expect(sentTo(new Set([Number(last)]))).toEqual([]);
  });

  it('should end SKIPPED, not EXPIRED, the unreached message of a phone that opted out before the mailing ended', async () => {
    const tag = tagged();
    const ids = await insertClients(herald, 40, { tags: [tag] });
    const last = await phoneOf(ids.at(-1)!);
    const mailing = await mailingFor(tag, { endAt: inMs(700) });
    await herald.ok(OPT_OUT, { phone: last });
    const done = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 10_000);
    expect(done.stats.expired).toBeGreaterThan(0);
    const [row] = await herald.sql`select status, last_error from messages where mailing_id = ${mailing.id} and client_id = ${ids.at(-1)!}`;
    expect(row).toEqual({ status: 'SKIPPED', last_error: 'opted out' });
  });

  it('should hold for a client added or imported later with that phone, survive the client\'s deletion, and lift with optIn', async () => {
    const tag = tagged();
    const phone = '79995550101';
    await herald.ok(OPT_OUT, { phone, reason: 'asked on the phone' });
    await herald.ok(`mutation($input: [CreateClientInput!]!) { importClients(input: $input) { imported } }`, {
      input: [{ phone, timezone: 'UTC', tags: [tag] }],
    });
    const first = await mailingFor(tag);
    expect((await untilMailingStatus(herald, first.id, 'COMPLETED', 5_000)).stats.total).toBe(0);

    const [client] = await herald.sql`select id from clients where phone = ${phone}`;
    expect((await herald.ok(`query($id: ID!) { client(id: $id) { optedOut } }`, { id: String(client.id) })).client.optedOut).toBe(true);
    await herald.ok(`mutation($id: ID!) { deleteClient(id: $id) }`, { id: String(client.id) });
    const listed = (await herald.ok(`{ optOuts(first: 500) { totalCount edges { node { phone reason optedOutAt } } } }`)).optOuts;
    expect(listed.edges.map((e: any) => e.node)).toContainEqual({ phone, reason: 'asked on the phone', optedOutAt: expect.any(String) });
    // Found by the digits it contains, as clients are.
    const found = (await herald.ok(`query($p: String) { optOuts(phone: $p) { totalCount edges { node { phone } } } }`, { p: phone.slice(3, 9) })).optOuts;
    expect(found.edges.map((e: any) => e.node.phone)).toContain(phone);
    expect(found.totalCount).toBe(found.edges.length);
    expect(found.edges.every((e: any) => e.node.phone.includes(phone.slice(3, 9)))).toBe(true);
    expect(onlyError(await herald.gql(`{ optOuts(phone: "12a") { totalCount } }`)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'phone' });

    await herald.ok(`mutation($input: CreateClientInput!) { createClient(input: $input) { id } }`, { input: { phone, timezone: 'UTC', tags: [tag] } });
    expect((await herald.ok(OPT_IN, { phone })).optIn).toBe(true);
    expect((await herald.ok(OPT_IN, { phone })).optIn).toBe(false);
    const second = await mailingFor(tag);
    expect((await untilMailingStatus(herald, second.id, 'COMPLETED', 5_000)).stats).toMatchObject({ total: 1, sent: 1 });
  });

  it('should refuse a bad phone by name, and a viewer', async () => {
    expect(onlyError(await herald.gql(OPT_OUT, { phone: '12345' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'phone' });
    expect(onlyError(await herald.gql(OPT_OUT, { phone: '79995550102', reason: 'x'.repeat(201) })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect(onlyError(await herald.gql(OPT_OUT, { phone: '79995550102' }, { token: VIEWER_TOKEN })).extensions?.code).toBe('FORBIDDEN');
    expect(await herald.sql`select id from opt_outs where phone = '79995550102'`).toEqual([]);
  });
});

describe('personalised texts', () => {
  it('should render the placeholders for each client, with defaults, and keep the text each message went out with', async () => {
    const tag = tagged();
    const [ann] = await herald.ok(`mutation($input: [CreateClientInput!]!) { importClients(input: $input) { imported } }`, {
      input: [
        { phone: '79995550201', timezone: 'UTC', tags: [tag], name: 'Ann', attributes: { city: 'Kazan' } },
        { phone: '79995550202', timezone: 'UTC', tags: [tag] },
      ],
    }).then(() => herald.sql`select id from clients where phone = '79995550201'`);
    const mailing = await mailingFor(tag, { text: 'Hello {{name|friend}}, see you in {{attributes.city|town}}!' });
    await untilMailingStatus(herald, mailing.id, 'COMPLETED', 5_000);
    const texts = new Map(gateway.received.filter((r) => ['79995550201', '79995550202'].includes(String(r.phone))).map((r) => [String(r.phone), r.text]));
    expect(texts).toEqual(new Map([
      ['79995550201', 'Hello Ann, see you in Kazan!'],
      ['79995550202', 'Hello friend, see you in town!'],
    ]));
    const messages = (await herald.ok(`query($id: ID!) { mailing(id: $id) { messages(first: 10) { edges { node { clientId text } } } } }`, { id: mailing.id })).mailing.messages.edges;
    // Whether a text has placeholders is the API's to say (the console asks it, never its own regex).
    const plain = await mailingFor(tag, { text: 'Hello {friend}, no placeholder here' });
    // Done before the next test, whose test send wants the gateway's one slot.
    await untilMailingStatus(herald, plain.id, 'COMPLETED', 5_000);
    const personalised = `query($a: ID!, $b: ID!) { a: mailing(id: $a) { personalised } b: mailing(id: $b) { personalised } }`;
    expect(await herald.ok(personalised, { a: mailing.id, b: plain.id })).toEqual({ a: { personalised: true }, b: { personalised: false } });
    expect(messages.find((e: any) => e.node.clientId === String(ann.id)).node.text).toBe('Hello Ann, see you in Kazan!');

    const preview = (await herald.ok(`query($t: String!, $c: ID!) { previewMailing(text: $t, clientId: $c) { text segments { encoding parts } } }`, {
      t: 'Привет, {{name}}!',
      c: String(ann.id),
    })).previewMailing;
    expect(preview).toEqual({ text: 'Привет, Ann!', segments: { encoding: 'UCS_2', parts: 1 } });
  });

  it.each([
    ['Hello {{name', 'not closed'],
    ['Hello name}}', 'closes no placeholder'],
    ['Hello {{email}}', 'unknown placeholder'],
    ['Hello {{attributes.}}', 'unknown placeholder'],
    ['Hello {{attributes.a-b}}', 'unknown placeholder'],
  ])('should refuse the text %j as BAD_USER_INPUT on text, creating nothing', async (text, why) => {
    const before = await herald.sql`select count(*)::int as n from mailings`;
    const res = await herald.gql(CREATE_MAILING, { input: { text, startAt: inMs(60_000), endAt: inMs(120_000) } });
    expect(onlyError(res).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'text' });
    expect(onlyError(res).message).toContain(why);
    expect(await herald.sql`select count(*)::int as n from mailings`).toEqual(before);
  });

  it('should bound a client\'s name and attributes', async () => {
    const create = (input: Record<string, unknown>) =>
      herald.gql(`mutation($input: CreateClientInput!) { createClient(input: $input) { id } }`, { input: { phone: '79995550203', timezone: 'UTC', ...input } });
    expect(onlyError(await create({ name: 'x'.repeat(65) })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(onlyError(await create({ attributes: { city: 'x'.repeat(65) } })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'attributes.city' });
    expect(onlyError(await create({ attributes: { city: 5 } })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'attributes.city' });
    expect(onlyError(await create({ attributes: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'attributes' });
    expect(onlyError(await herald.gql(`query($t: String!) { previewMailing(text: $t, clientId: "999999") { text } }`, { t: 'x' })).extensions?.code).toBe('NOT_FOUND');
  });
});

describe('segments and cost', () => {
  it('should tell a mailing\'s parts at its placeholders\' longest, its audience and the parts it will cost, and refuse too many', async () => {
    const tag = tagged();
    await insertClients(herald, 7, { tags: [tag] });
    const data = await herald.ok(`mutation($input: CreateMailingInput!) { createMailing(input: $input) { status segments { encoding characters parts } audienceSize estimatedParts } }`, {
      // 100 characters of text and a name of up to 64: 164 septets, 2 parts.
      input: { text: `${'a'.repeat(100)}{{name}}`, startAt: inMs(3_600_000), endAt: inMs(7_200_000), filter: { tags: [tag] } },
    });
    expect(data.createMailing).toEqual({ status: 'SCHEDULED', segments: { encoding: 'GSM_7', characters: 164, parts: 2 }, audienceSize: 7, estimatedParts: 14 });

    const tooLong = await herald.gql(CREATE_MAILING, { input: { text: 'Ж'.repeat(403), startAt: inMs(60_000), endAt: inMs(120_000) } });
    expect(onlyError(tooLong).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'text' });
    expect(onlyError(tooLong).message).toMatch(/up to 7 SMS .*at most 6/);
  });

  it('should measure a text as it is typed: placeholders at their longest, over the limit measured, malformed placeholders refused on text', async () => {
    const MEASURE = `query($t: String!) { measureText(text: $t) { segments { encoding characters parts charactersLeft } placeholders placeholderLength maxSegments } }`;
    expect((await herald.ok(MEASURE, { t: `Hi {{name|friend}}, ${'a'.repeat(90)}` })).measureText).toEqual({
      // "Hi " + 64 + ", " + 90 = 159 septets: one part, one character left.
      segments: { encoding: 'GSM_7', characters: 159, parts: 1, charactersLeft: 1 },
      placeholders: 1,
      placeholderLength: 64,
      maxSegments: 6,
    });
    // What createMailing refuses (7 parts) is measured, so that an operator sees by how much.
    expect((await herald.ok(MEASURE, { t: 'Ж'.repeat(403) })).measureText.segments).toEqual({ encoding: 'UCS_2', characters: 403, parts: 7, charactersLeft: 66 });
    const malformed = await herald.gql(MEASURE, { t: 'Hi {{nam}}' });
    expect(onlyError(malformed).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'text' });
    expect(onlyError(malformed).message).toMatch(/unknown placeholder \{\{nam\}\}/);
  });
});

describe('test sends', () => {
  it('should send one text to one phone now through the gateway, personalised, and record it apart from mailings', async () => {
    await herald.ok(`mutation($input: CreateClientInput!) { createClient(input: $input) { id } }`, {
      input: { phone: '79995550301', timezone: 'UTC', name: 'Bob' },
    });
    const res = (await herald.ok(`mutation { testSend(text: "Hi {{name|there}}", phone: "79995550301") { id status outcome error text segments { encoding parts } } }`)).testSend;
    expect(res).toMatchObject({ status: 'SENT', outcome: 'sent', error: null, text: 'Hi Bob', segments: { encoding: 'GSM_7', parts: 1 } });
    const got = gateway.received.filter((r) => r.msgId === Number(res.id));
    expect(got).toEqual([expect.objectContaining({ phone: 79995550301, text: 'Hi Bob', status: 200 })]);
    expect(await herald.sql`select phone, text, status from test_sends where id = ${res.id}`).toEqual([{ phone: '79995550301', text: 'Hi Bob', status: 'SENT' }]);
    expect(await herald.sql`select id from messages where id = ${res.id}`).toEqual([]);

    gateway.set({ forceStatus: 400 });
    expect((await herald.ok(`mutation { testSend(text: "x", phone: "79995550301") { status outcome error } }`)).testSend).toMatchObject({ status: 'FAILED', outcome: 'rejected' });
  });

  it('should not send to an opted-out phone', async () => {
    await herald.ok(OPT_OUT, { phone: '79995550302' });
    const before = gateway.received.length;
    const res = (await herald.ok(`mutation { testSend(text: "x", phone: "79995550302") { status outcome error } }`)).testSend;
    expect(res).toEqual({ status: 'SKIPPED', outcome: 'opted-out', error: 'opted out' });
    expect(gateway.received.length).toBe(before);
  });
});

describe('again: retries of the failed, duplicates', () => {
  const RETRY = `mutation($id: ID!) { retryFailed(mailingId: $id) { id status } }`;

  it('should queue a completed mailing\'s FAILED messages once more, and complete it again', async () => {
    const tag = tagged();
    const ids = await insertClients(herald, 6, { tags: [tag] });
    const refused = [...(await phonesOf(herald, ids.slice(0, 2)))];
    gateway.set({ latencyMs: 40, rules: [{ phones: refused, failTimes: 1, failStatus: 400 }] });
    const mailing = await mailingFor(tag, { maxFailureRate: 1 });
    const first = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 10_000);
    expect(first.stats).toMatchObject({ total: 6, sent: 4, failed: 2 });

    expect((await herald.ok(RETRY, { id: mailing.id })).retryFailed.status).toBe('RUNNING');
    const again = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 10_000);
    expect(again.stats).toMatchObject({ total: 6, sent: 6, failed: 0 });
    for (const phone of refused) expect(gateway.received.filter((r) => Number(r.phone) === phone)).toHaveLength(2);
    expect(onlyError(await herald.gql(RETRY, { id: mailing.id })).extensions?.code).toBe('CONFLICT');
  });

  it('should refuse to retry once the end has passed', async () => {
    const [row] = await herald.sql`
      insert into mailings (text, start_at, end_at, status) values ('old', now() - interval '2 hours', now() - interval '1 hour', 'COMPLETED') returning id`;
    expect(onlyError(await herald.gql(RETRY, { id: String(row.id) })).extensions?.code).toBe('CONFLICT');
  });

  it('should duplicate a mailing as a new scheduled one with the same text, filter, window and rules', async () => {
    const tag = tagged();
    const original = await mailingFor(tag, { name: 'Spring', text: 'Sale {{name|}}', sendWindow: { from: '09:00', to: '21:00' }, frequencyCap: '3/7d' });
    const copy = (await herald.ok(`mutation($id: ID!) { duplicateMailing(id: $id) { id name text status startAt endAt filter { tags } sendWindow { from to } frequencyCap } }`, { id: original.id })).duplicateMailing;
    expect(copy).toMatchObject({ name: 'Spring', text: 'Sale {{name|}}', status: 'SCHEDULED', filter: { tags: [tag] }, sendWindow: { from: '09:00', to: '21:00' }, frequencyCap: '3/7d' });
    expect(copy.id).not.toBe(original.id);
    expect(new Date(copy.startAt).getTime()).toBeGreaterThan(Date.now() + 3_000_000);
  });
});

describe('a mailing that keeps failing', () => {
  it('should pause itself past its failure rate, say why, and resume only by hand', async () => {
    const tag = tagged();
    const ids = await insertClients(herald, 60, { tags: [tag] });
    // Two in three refused as invalid: a wrong text, say.
    const refused = [...(await phonesOf(herald, ids.filter((_, i) => i % 3 !== 0)))];
    gateway.set({ latencyMs: 5, rules: [{ phones: refused, failTimes: 1_000, failStatus: 400 }] });
    const events = subscribe<{ mailingsChanged: { mailingId: string; kind: string; status: string } }>(herald.url, 'subscription { mailingsChanged { mailingId kind status } }');
    try {
      const mailing = await mailingFor(tag, { maxFailureRate: 0.5 });
      const paused = await waitFor(async () => {
        const m = (await herald.ok(`query($id: ID!) { mailing(id: $id) { status pausedReason pausedBy pausedAt maxFailureRate stats { sent failed } } }`, { id: mailing.id })).mailing;
        return m.status === 'PAUSED' && m;
      }, 10_000, 'the mailing to pause itself');
      expect(paused.pausedReason).toMatch(/% of its last results failed \(more than 50%\)/);
      // Who and when (issue 20): Herald itself, moments ago.
      expect(paused.pausedBy).toBe('Herald itself');
      expect(Math.abs(Date.parse(paused.pausedAt) - Date.now())).toBeLessThan(15_000);
      // It stopped early: the rest of its audience was not burnt.
      expect(paused.stats.sent + paused.stats.failed).toBeLessThan(60);
      await sleep(300);
      const still = await mailingState(herald, mailing.id);
      expect(still.status).toBe('PAUSED');
      expect(events.events.some((e) => e.data.mailingsChanged.mailingId === mailing.id && e.data.mailingsChanged.kind === 'PAUSED')).toBe(true);
      expect(herald.logs.some((l) => l.msg === 'mailing paused itself' && String(l.mailingId) === mailing.id)).toBe(true);

      gateway.set({ latencyMs: 5, rules: [] });
      const resumed = (await herald.ok(`mutation($id: ID!) { resumeMailing(id: $id) { status pausedReason pausedBy pausedAt } }`, { id: mailing.id })).resumeMailing;
      expect(resumed).toEqual({ status: 'RUNNING', pausedReason: null, pausedBy: null, pausedAt: null });
      // Judged afresh once resumed: with the gateway healthy again it goes to the end, not
      // back into a pause on the results that made it pause.
      const done = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 10_000);
      expect(done.stats.total).toBe(60);
      expect(done.stats.sent + done.stats.failed).toBe(60);
      // What was in flight at the pause was answered (5 ms) while it stood paused; once
      // resumed with the gateway healthy, nothing more failed.
      expect(done.stats.failed).toBe(still.stats.failed);
    } finally {
      await events.stop();
    }
  });
});

describe('names', () => {
  it('should find mailings by a part of their name, status and start', async () => {
    const mark = tagged();
    await herald.ok(CREATE_MAILING, { input: { name: `Winter ${mark} A`, text: 'a', startAt: inMs(10 * 3_600_000), endAt: inMs(11 * 3_600_000) } });
    await herald.ok(CREATE_MAILING, { input: { name: `winter ${mark} B`, text: 'b', startAt: inMs(20 * 3_600_000), endAt: inMs(21 * 3_600_000) } });
    const names = async (args: string) =>
      (await herald.ok(`{ mailings(first: 500, ${args}) { edges { node { name } } } }`)).mailings.edges.map((e: any) => e.node.name).sort();
    expect(await names(`name: "WINTER ${mark}"`)).toEqual([`Winter ${mark} A`, `winter ${mark} B`]);
    expect(await names(`name: "${mark}", startTo: "${inMs(15 * 3_600_000)}"`)).toEqual([`Winter ${mark} A`]);
    expect(await names(`name: "${mark}", status: RUNNING`)).toEqual([]);
    const refused = await herald.gql(`{ mailings(startFrom: "${inMs(2_000)}", startTo: "${inMs(1_000)}") { totalCount } }`);
    expect(onlyError(refused).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'startTo' });
  });
});
