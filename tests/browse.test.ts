import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewaySimulator } from '../src/gateway/simulator';
import { CREATE_MAILING, inMs, phonesOf, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { onlyError, startTestHerald, type TestHerald } from './support/herald';

/*
 * Issue 20's browsing: a mailing's messages by status, phone and failure reason; a client's
 * messages across mailings; tags with their counts; the estimate from the audience's values.
 */

let herald: TestHerald;
let gateway: GatewaySimulator;

beforeAll(async () => {
  const gw = await startTestGateway();
  gateway = gw.simulator;
  herald = await startTestHerald(gw.config);
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});

let nextPhone = 79_500_000_000 + Math.floor(Math.random() * 1e7);

/** Clients with these names (null: none) and tags, straight into the table; returns their ids. */
async function clientsNamed(names: (string | null)[], tags: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const name of names) {
    const [row] = await herald.sql<{ id: string }[]>`
      insert into clients (phone, operator_code, tags, timezone, name) values (${String(nextPhone++)}, '950', ${tags}::text[], 'UTC', ${name}) returning id`;
    ids.push(Number(row.id));
  }
  return ids;
}

async function completedMailing(tag: string, failing: number[] = []) {
  if (failing.length) gateway.set({ rules: [{ phones: [...(await phonesOf(herald, failing))], failTimes: 100, failStatus: 400 }] });
  const data = await herald.ok(CREATE_MAILING, { input: { text: 'Browse', startAt: inMs(-1000), endAt: inMs(120_000), filter: { tags: [tag] } } });
  const id = data.createMailing.id as string;
  await untilMailingStatus(herald, id, 'COMPLETED', 20_000);
  gateway.set({ rules: [] });
  return id;
}

const MESSAGES = `query($id: ID!, $status: MessageStatus, $phone: String, $reason: String, $first: Int, $after: String) {
  mailing(id: $id) { messages(status: $status, phone: $phone, reason: $reason, first: $first, after: $after) {
    totalCount edges { node { id status phone: client { phone } lastError clientId } } pageInfo { hasNextPage endCursor } } } }`;

describe('a mailing\'s messages', () => {
  it('should be narrowed by status, by digits of the phone and by the failure reason', async () => {
    const tag = `b${Math.random().toString(36).slice(2, 8)}`;
    const ids = await clientsNamed(['A', 'B', 'C', 'D', 'E', 'F'], [tag]);
    const id = await completedMailing(tag, ids.slice(0, 2));
    // Two of the sent ones came back undelivered, with the receipt's reason.
    await herald.sql`update messages set status = 'UNDELIVERED', last_error = 'UNDELIV err:034', delivered_at = now()
      where mailing_id = ${id} and client_id = any(${ids.slice(2, 4)}::bigint[])`;

    const failed = (await herald.ok(MESSAGES, { id, status: 'FAILED' })).mailing.messages;
    expect(failed.totalCount).toBe(2);
    expect(failed.edges.map((e: any) => Number(e.node.clientId)).sort()).toEqual(ids.slice(0, 2).sort());

    const [phone] = await herald.sql<{ phone: string }[]>`select phone from clients where id = ${ids[4]}`;
    const byPhone = (await herald.ok(MESSAGES, { id, phone: phone.phone.slice(-6) })).mailing.messages;
    expect(byPhone.edges.map((e: any) => Number(e.node.clientId))).toEqual([ids[4]]);

    const reasons = (await herald.ok(`query($id: ID!) { mailing(id: $id) { failureReasons { status reason count } } }`, { id })).mailing.failureReasons;
    const undelivered = reasons.find((r: any) => r.status === 'UNDELIVERED');
    expect(undelivered).toEqual({ status: 'UNDELIVERED', reason: 'UNDELIV err:034', count: 2 });
    // Each reason opens the messages behind it: as many as it counts.
    for (const r of reasons) {
      const behind = (await herald.ok(MESSAGES, { id, status: r.status, reason: r.reason })).mailing.messages;
      expect(behind.totalCount).toBe(r.count);
      expect(behind.edges).toHaveLength(r.count);
    }
    const none = (await herald.ok(MESSAGES, { id, status: 'UNDELIVERED', reason: 'UNDELIV err:999' })).mailing.messages;
    expect(none.totalCount).toBe(0);

    // Pages of 4 in id order, whatever the narrowing.
    const first = (await herald.ok(MESSAGES, { id, first: 4 })).mailing.messages;
    expect(first.edges).toHaveLength(4);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await herald.ok(MESSAGES, { id, first: 4, after: first.pageInfo.endCursor })).mailing.messages;
    expect(second.edges).toHaveLength(2);
    expect(second.pageInfo.hasNextPage).toBe(false);

    const bad = onlyError(await herald.gql(MESSAGES, { id, phone: '+7 916' }));
    expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'phone' });
    const badReason = onlyError(await herald.gql(MESSAGES, { id, reason: '' }));
    expect(badReason.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
  });
});

describe('a client\'s messages', () => {
  it('should list its messages across mailings, newest mailing first, in pages', async () => {
    const tag = `c${Math.random().toString(36).slice(2, 8)}`;
    const [client] = await clientsNamed(['Olga'], [tag]);
    const first = await completedMailing(tag);
    const second = await completedMailing(tag, [client]);
    const Q = `query($id: ID!, $first: Int, $after: String) { client(id: $id) { messages(first: $first, after: $after) {
      totalCount edges { node { mailingId status } } pageInfo { hasNextPage endCursor } } } }`;
    const all = (await herald.ok(Q, { id: String(client) })).client.messages;
    expect(all.totalCount).toBe(2);
    expect(all.edges.map((e: any) => e.node)).toEqual([
      { mailingId: second, status: 'FAILED' },
      { mailingId: first, status: 'SENT' },
    ]);
    const page1 = (await herald.ok(Q, { id: String(client), first: 1 })).client.messages;
    expect(page1.edges.map((e: any) => e.node.mailingId)).toEqual([second]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await herald.ok(Q, { id: String(client), first: 1, after: page1.pageInfo.endCursor })).client.messages;
    expect(page2.edges.map((e: any) => e.node.mailingId)).toEqual([first]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
  });
});

describe('tags', () => {
  it('should list every tag with its client count, most carried first, then by name', async () => {
    await clientsNamed([null, null, null], ['t-zeta']);
    await clientsNamed([null, null, null], ['t-alpha', 't-zeta']);
    await clientsNamed([null, null, null], ['t-beta']);
    const { tags } = await herald.ok(`{ tags { name clientCount } }`);
    const mine = tags.filter((t: any) => t.name.startsWith('t-'));
    expect(mine).toEqual([
      { name: 't-zeta', clientCount: 6 },
      { name: 't-alpha', clientCount: 3 },
      { name: 't-beta', clientCount: 3 },
    ]);
    // The whole list is sorted the same way.
    const sorted = [...tags].sort((a: any, b: any) => b.clientCount - a.clientCount || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    expect(tags).toEqual(sorted);
  });
});

const ESTIMATE = `query($text: String!, $filter: ClientFilterInput!) { mailingEstimate(text: $text, filter: $filter) {
  audience parts typicalParts longestParts worstCaseParts exact } }`;

describe('mailingEstimate', () => {
  // 5 + name + 2 + 120 characters: one part for a short name, two for a long one.
  const text = `Dear {{name}}! ${'x'.repeat(120)}`;

  it('should bill each client its own rendering: short names one part, the longest two', async () => {
    const tag = `e${Math.random().toString(36).slice(2, 8)}`;
    await clientsNamed(['Ann', 'Bob', 'Ann', 'Eve'], [tag]);
    await clientsNamed(['M'.repeat(64)], [tag]);
    // Opted out: not in the audience, however long its name.
    const [out] = await clientsNamed(['Z'.repeat(64)], [tag]);
    await herald.sql`insert into opt_outs (phone) select phone from clients where id = ${out}`;
    const { mailingEstimate } = await herald.ok(ESTIMATE, { text, filter: { tags: [tag] } });
    expect(mailingEstimate).toEqual({ audience: 5, parts: 6, typicalParts: 1, longestParts: 2, worstCaseParts: 2, exact: true });
    // measureText's worst case, for comparison: every name at 64 characters.
    const { measureText } = await herald.ok(`query($t: String!) { measureText(text: $t) { segments { parts } } }`, { t: text });
    expect(measureText.segments.parts).toBe(2);

    // The fallback is what a client without a name gets, as the dispatcher renders it.
    await clientsNamed([null], [tag]);
    const withDefault = await herald.ok(ESTIMATE, { text: `Dear {{name|${'f'.repeat(40)}}}! ${'x'.repeat(120)}`, filter: { tags: [tag] } });
    expect(withDefault.mailingEstimate).toMatchObject({ audience: 6, parts: 1 * 4 + 2 + 2, longestParts: 2 });
  });

  it('should count every client by its values\' lengths beyond 10,000 distinct values', async () => {
    const tag = `m${Math.random().toString(36).slice(2, 8)}`;
    const base = 79_600_000_000 + Math.floor(Math.random() * 1e7);
    // 10,001 distinct short names, and 10 that need a second part (64 characters).
    await herald.sql`insert into clients (phone, operator_code, tags, timezone, name)
      select (${base}::bigint + i)::text, '950', ${[tag]}::text[], 'UTC', case when i < 10 then repeat('L', 60) || i::text || 'abc' else 'n' || i::text end
      from generate_series(0, 10010) as i`;
    const { mailingEstimate } = await herald.ok(ESTIMATE, { text, filter: { tags: [tag] } });
    expect(mailingEstimate).toEqual({ audience: 10_011, parts: 10_001 + 20, typicalParts: 1, longestParts: 2, worstCaseParts: 2, exact: false });
  });

  it('should refuse a malformed placeholder on text', async () => {
    const error = onlyError(await herald.gql(ESTIMATE, { text: 'Hi {{nme}}', filter: {} }));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'text' });
  });
});
