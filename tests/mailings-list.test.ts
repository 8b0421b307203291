import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './support/herald';

/**
 * Issue 20's dashboard over the API: the mailings list sorted by its columns (keyset pages
 * that follow the order), Mailing.startedAt/finishedAt, and statistics.messagesPerDay.
 */

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(() => herald?.stop());

const HOUR = 3_600_000;
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const LIST = `query($first: Int, $after: String, $sort: MailingSort, $descending: Boolean, $name: String) {
  mailings(first: $first, after: $after, sort: $sort, descending: $descending, name: $name) {
    totalCount edges { node { id name startedAt finishedAt stats { sent failed } } } pageInfo { hasNextPage endCursor } } }`;

/** Scheduled mailings named `prefix-<label>`, with `sent`/`failed` counters set by hand; returns their ids by label. */
async function mailings(prefix: string, specs: { label: string; sent: number; failed: number; started?: boolean }[]): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const spec of specs) {
    const input = { name: `${prefix}-${spec.label}`, text: 'Hello', startAt: inMs(HOUR), endAt: inMs(2 * HOUR) };
    const id = (await herald.ok(`mutation($input: CreateMailingInput!) { createMailing(input: $input) { id } }`, { input })).createMailing.id;
    await herald.sql`insert into mailing_stats (mailing_id, sent, failed) values (${id}, ${spec.sent}, ${spec.failed})
                     on conflict (mailing_id) do update set sent = excluded.sent, failed = excluded.failed`;
    if (spec.started !== false) await herald.sql`update mailings set started_at = now() - interval '1 minute' where id = ${id}`;
    ids[spec.label] = id;
  }
  return ids;
}

/** Every page of a sorted list, two rows a page: the labels in order. */
async function walk(prefix: string, sort: string, descending: boolean): Promise<string[]> {
  const labels: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 10; i++) {
    const page: any = (await herald.ok(LIST, { first: 2, after, sort, descending, name: prefix })).mailings;
    labels.push(...page.edges.map((e: any) => e.node.name.slice(prefix.length + 1)));
    if (!page.pageInfo.hasNextPage) return labels;
    after = page.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

describe('mailings(sort, descending)', () => {
  it('should sort by failed count, sent count, failure share and name, either way, across pages, nulls last', async () => {
    await mailings('srt', [
      { label: 'b', sent: 10, failed: 5 },
      { label: 'a', sent: 30, failed: 0 },
      { label: 'd', sent: 0, failed: 0, started: false },
      { label: 'c', sent: 5, failed: 5 },
      { label: 'e', sent: 20, failed: 5 },
    ]);
    expect(await walk('srt', 'FAILED', true)).toEqual(['e', 'c', 'b', 'd', 'a']);
    expect(await walk('srt', 'SENT', false)).toEqual(['d', 'c', 'b', 'e', 'a']);
    // Failed / (sent + failed): c 0.5, b 0.33, e 0.2, a 0; d has none (nothing sent) and comes last.
    expect(await walk('srt', 'FAILURE_SHARE', true)).toEqual(['c', 'b', 'e', 'a', 'd']);
    expect(await walk('srt', 'FAILURE_SHARE', false)).toEqual(['a', 'e', 'b', 'c', 'd']);
    expect(await walk('srt', 'NAME', false)).toEqual(['a', 'b', 'c', 'd', 'e']);
    // d never started: last either way.
    expect((await walk('srt', 'STARTED_AT', true)).at(-1)).toBe('d');
    expect((await walk('srt', 'STARTED_AT', false)).at(-1)).toBe('d');
    // The default is unchanged: newest first.
    expect(await walk('srt', 'CREATED_AT', true)).toEqual(['e', 'c', 'd', 'a', 'b']);
    expect(await walk('srt', 'CREATED_AT', false)).toEqual(['b', 'a', 'd', 'c', 'e']);
  });

  it('should refuse a sort the API does not know, naming the argument', async () => {
    const res = await herald.gql(`{ mailings(sort: BY_MOOD) { totalCount } }`);
    expect(res.body.errors?.[0].message).toMatch(/BY_MOOD/);
  });

  it('should tell when a mailing started and finished', async () => {
    const input = { text: 'Hello', startAt: inMs(-1000), endAt: inMs(HOUR), filter: { operatorCodes: ['000'] } };
    // Nobody matches: it starts and completes at once.
    const m = (await herald.ok(`mutation($input: CreateMailingInput!) { createMailing(input: $input) { status startedAt finishedAt } }`, { input })).createMailing;
    expect(m.status).toBe('COMPLETED');
    expect(Math.abs(Date.parse(m.startedAt) - Date.now())).toBeLessThan(10_000);
    expect(Date.parse(m.finishedAt)).toBeGreaterThanOrEqual(Date.parse(m.startedAt));
  });
});

describe('statistics.messagesPerDay', () => {
  it('should count sent, delivered and failed messages by UTC day, every day of the last `days` listed', async () => {
    const input = { name: 'per-day', text: 'Hello', startAt: inMs(HOUR), endAt: inMs(2 * HOUR) };
    const id = (await herald.ok(`mutation($input: CreateMailingInput!) { createMailing(input: $input) { id } }`, { input })).createMailing.id;
    await herald.sql`update mailings set started_at = now() - interval '3 days' where id = ${id}`;
    const day = (ago: number) => new Date(Date.now() - ago * 24 * HOUR);
    const rows: [string, Date, Date | null][] = [
      ['SENT', day(2), null],
      ['DELIVERED', day(2), day(1)],
      ['UNDELIVERED', day(1), day(1)],
      ['FAILED', day(0), null],
      ['PENDING', day(0), null],
    ];
    for (const [i, [status, sentAt, deliveredAt]] of rows.entries()) {
      await herald.sql`insert into messages (mailing_id, client_id, phone, status, attempts, sent_at, delivered_at, updated_at)
        values (${id}, ${800_000 + i}, ${`7900800000${i}`}, ${status}, 1, ${status === 'FAILED' || status === 'PENDING' ? null : sentAt}, ${deliveredAt}, ${sentAt})`;
    }
    const perDay = (await herald.ok(`{ statistics { messagesPerDay(days: 5) { day sent delivered failed } } }`)).statistics.messagesPerDay;
    const utc = (d: Date) => d.toISOString().slice(0, 10);
    expect(perDay.map((d: any) => d.day)).toEqual([4, 3, 2, 1, 0].map((ago) => utc(day(ago))));
    expect(perDay.find((d: any) => d.day === utc(day(2)))).toEqual({ day: utc(day(2)), sent: 2, delivered: 0, failed: 0 });
    expect(perDay.find((d: any) => d.day === utc(day(1)))).toEqual({ day: utc(day(1)), sent: 1, delivered: 1, failed: 0 });
    expect(perDay.find((d: any) => d.day === utc(day(0)))).toEqual({ day: utc(day(0)), sent: 0, delivered: 0, failed: 1 });
    expect((await herald.ok(`{ statistics { messagesPerDay { day } } }`)).statistics.messagesPerDay).toHaveLength(30);
    const res = await herald.gql(`{ statistics { messagesPerDay(days: 0) { day } } }`);
    expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'days' });
  });
});
