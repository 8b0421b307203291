import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';

const STATS = `total pending sent failed expired cancelled skipped delivered undelivered awaitingReceipt deliveryRate byStatus { status count }`;
const STATISTICS = `query { statistics { mailingCount messages { ${STATS} } } }`;

let herald: TestHerald;
/** The overall figures of the fresh, empty database, read before any test ran. */
let initialStatistics: any;
beforeAll(async () => {
  herald = await startTestHerald();
  initialStatistics = (await herald.ok(STATISTICS)).statistics;
});
afterAll(() => herald?.stop());

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

const STATUSES = ['PENDING', 'SENT', 'FAILED', 'EXPIRED', 'CANCELLED', 'SKIPPED', 'DELIVERED', 'UNDELIVERED'] as const;
type Status = (typeof STATUSES)[number];
type Counts = Partial<Record<Status, number>>;

/** What MessageStats should show for these counts: every status, zeros included, in a fixed order. */
function expectedStats(counts: Counts) {
  const n = (s: Status) => counts[s] ?? 0;
  return {
    total: STATUSES.reduce((sum, s) => sum + n(s), 0),
    pending: n('PENDING'),
    // every message a provider accepted, whatever its receipt said since
    sent: n('SENT') + n('DELIVERED') + n('UNDELIVERED'),
    failed: n('FAILED'),
    expired: n('EXPIRED'),
    cancelled: n('CANCELLED'),
    skipped: n('SKIPPED'),
    delivered: n('DELIVERED'),
    undelivered: n('UNDELIVERED'),
    awaitingReceipt: n('SENT'),
    deliveryRate: n('DELIVERED') + n('UNDELIVERED') === 0 ? null : n('DELIVERED') / (n('DELIVERED') + n('UNDELIVERED')),
    byStatus: STATUSES.map((status) => ({ status, count: n(status) })),
  };
}

function addCounts(a: Counts, b: Counts, sign = 1): Counts {
  return Object.fromEntries(STATUSES.map((s) => [s, (a[s] ?? 0) + sign * (b[s] ?? 0)]));
}

/** The truth, read from PostgreSQL. */
async function countsInDb(mailingId?: string): Promise<Counts> {
  const rows = mailingId
    ? await herald.sql`select status, count(*)::int as n from messages where mailing_id = ${mailingId} group by status`
    : await herald.sql`select status, count(*)::int as n from messages group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function mailingCountInDb(): Promise<number> {
  const [{ n }] = await herald.sql`select count(*)::int as n from mailings`;
  return n;
}

async function statistics() {
  return (await herald.ok(STATISTICS)).statistics;
}

async function createMailing(): Promise<string> {
  const data = await herald.ok(`mutation($input: CreateMailingInput!) { createMailing(input: $input) { id } }`, {
    // starting in an hour: nothing but these tests touches its messages meanwhile
    input: { text: 'Statistics', startAt: new Date(Date.now() + 3_600_000).toISOString(), endAt: new Date(Date.now() + 86_400_000).toISOString() },
  });
  return data.createMailing.id;
}

async function mailingStats(id: string, token?: string) {
  return (await herald.ok(`query($id: ID!) { mailing(id: $id) { stats { ${STATS} } } }`, { id }, { token })).mailing.stats;
}

/** Client ids for fixture messages: far above the ids of the few real clients these tests create. */
let nextClientId = 1_000_000;
/** Inserts message rows (each for a client of its own) with these counts by status. */
async function insertMessages(mailingId: string, counts: Counts): Promise<string[]> {
  const ids: string[] = [];
  for (const status of STATUSES) {
    for (let i = 0; i < (counts[status] ?? 0); i++) {
      const clientId = nextClientId++;
      const [row] = await herald.sql`
        insert into messages (mailing_id, client_id, phone, status, attempts, last_error, sent_at)
        values (${mailingId}, ${clientId}, ${`7900${String(clientId).padStart(7, '0')}`}, ${status},
                ${status === 'PENDING' ? 0 : 1}, ${status === 'FAILED' ? 'refused' : null},
                ${status === 'SENT' ? new Date() : null})
        returning id`;
      ids.push(row.id);
    }
  }
  return ids;
}

async function mailingWithMessages(counts: Counts): Promise<string> {
  const id = await createMailing();
  await insertMessages(id, counts);
  return id;
}

// ---------------------------------------------------------------------------------------
// Mailing.stats
// ---------------------------------------------------------------------------------------

describe('Mailing.stats', () => {
  it('should count exactly the mailing\'s messages by status, listing every status in order with zeros', async () => {
    const counts = { PENDING: 3, SENT: 2, FAILED: 1, CANCELLED: 4, SKIPPED: 2, DELIVERED: 3, UNDELIVERED: 1 };
    const id = await mailingWithMessages(counts);
    await mailingWithMessages({ PENDING: 5, EXPIRED: 2, DELIVERED: 1 }); // another mailing's messages must not count

    const stats = await mailingStats(id);
    expect(stats).toEqual({
      total: 16,
      pending: 3,
      sent: 6,
      failed: 1,
      expired: 0,
      cancelled: 4,
      skipped: 2,
      delivered: 3,
      undelivered: 1,
      awaitingReceipt: 2,
      deliveryRate: 0.75,
      byStatus: [
        { status: 'PENDING', count: 3 },
        { status: 'SENT', count: 2 },
        { status: 'FAILED', count: 1 },
        { status: 'EXPIRED', count: 0 },
        { status: 'CANCELLED', count: 4 },
        { status: 'SKIPPED', count: 2 },
        { status: 'DELIVERED', count: 3 },
        { status: 'UNDELIVERED', count: 1 },
      ],
    });
    expect(stats).toEqual(expectedStats(await countsInDb(id)));
  });

  it('should report zero for every status of a mailing without messages', async () => {
    const id = await createMailing();
    expect(await mailingStats(id)).toEqual(expectedStats({}));
  });

  it.each(STATUSES)('should count a mailing whose messages are all %s', async (status) => {
    const id = await mailingWithMessages({ [status]: 2 });
    const stats = await mailingStats(id);
    expect(stats).toEqual(expectedStats({ [status]: 2 }));
    expect(stats.byStatus.map((s: any) => s.status)).toEqual([...STATUSES]);
  });

  it('should give every mailing of one `mailings` page its own figures', async () => {
    const distributions: Counts[] = [
      { PENDING: 1 },
      {},
      { SENT: 3, FAILED: 2 },
      { PENDING: 2, SENT: 1, FAILED: 1, EXPIRED: 4, CANCELLED: 1 },
      { EXPIRED: 1, CANCELLED: 2 },
    ];
    const ids: string[] = [];
    for (const counts of distributions) ids.push(await mailingWithMessages(counts));

    const page = (await herald.ok(`query { mailings(first: 500) { totalCount edges { node { id stats { ${STATS} } } } } }`)).mailings;
    const statsById = new Map<string, unknown>(page.edges.map((e: any) => [e.node.id, e.node.stats]));
    ids.forEach((id, i) => expect(statsById.get(id), `mailing ${id}`).toEqual(expectedStats(distributions[i])));
    // every other mailing on the page, too, shows what PostgreSQL holds for it
    expect(page.edges.length).toBe(page.totalCount);
    for (const [id, stats] of statsById) expect(stats, `mailing ${id}`).toEqual(expectedStats(await countsInDb(id)));
  });

  it('should give each mailing its own figures when several are asked for in one request', async () => {
    const a = await mailingWithMessages({ SENT: 4 });
    const b = await mailingWithMessages({ FAILED: 1, PENDING: 1 });
    const c = await createMailing();
    const data = await herald.ok(
      `query($a: ID!, $b: ID!, $c: ID!) {
        a: mailing(id: $a) { stats { ${STATS} } }
        b: mailing(id: $b) { stats { ${STATS} } }
        c: mailing(id: $c) { stats { ${STATS} } }
        again: mailing(id: $a) { stats { total } }
      }`,
      { a, b, c },
    );
    expect(data.a.stats).toEqual(expectedStats({ SENT: 4 }));
    expect(data.b.stats).toEqual(expectedStats({ FAILED: 1, PENDING: 1 }));
    expect(data.c.stats).toEqual(expectedStats({}));
    expect(data.again.stats).toEqual({ total: 4 });
  });

  it('should follow the messages as their status changes', async () => {
    const id = await mailingWithMessages({ PENDING: 4 });
    expect(await mailingStats(id)).toEqual(expectedStats({ PENDING: 4 }));

    await herald.sql`
      update messages set status = 'SENT', sent_at = now(), attempts = 1
      where id in (select id from messages where mailing_id = ${id} order by id limit 3)`;
    await herald.sql`update messages set status = 'EXPIRED' where mailing_id = ${id} and status = 'PENDING'`;
    expect(await mailingStats(id)).toEqual(expectedStats({ SENT: 3, EXPIRED: 1 }));
  });

  it('should keep counting messages whose client was deleted', async () => {
    const client = (
      await herald.ok(`mutation { createClient(input: { phone: "79031112233", timezone: "Europe/Moscow" }) { id phone } }`)
    ).createClient;
    const id = await mailingWithMessages({ PENDING: 1 });
    await herald.sql`
      insert into messages (mailing_id, client_id, phone, status, attempts, last_error, sent_at)
      values (${id}, ${client.id}, ${client.phone}, 'SENT', 1, null, now())`;
    expect(await mailingStats(id)).toEqual(expectedStats({ PENDING: 1, SENT: 1 }));

    await herald.ok(`mutation($id: ID!) { deleteClient(id: $id) }`, { id: client.id });
    expect(await mailingStats(id)).toEqual(expectedStats({ PENDING: 1, SENT: 1 }));
  });

  it('should show a viewer the same figures', async () => {
    const id = await mailingWithMessages({ SENT: 1, FAILED: 1 });
    expect(await mailingStats(id, VIEWER_TOKEN)).toEqual(expectedStats({ SENT: 1, FAILED: 1 }));
  });
});

// ---------------------------------------------------------------------------------------
// statistics
// ---------------------------------------------------------------------------------------

describe('statistics', () => {
  it('should report no mailings and zero messages of every status on an empty database', () => {
    expect(initialStatistics).toEqual({ mailingCount: 0, messages: expectedStats({}) });
  });

  it('should equal what PostgreSQL holds: every mailing and every message by status', async () => {
    await mailingWithMessages({ PENDING: 2, SENT: 1, CANCELLED: 1 });
    await createMailing();
    expect(await statistics()).toEqual({
      mailingCount: await mailingCountInDb(),
      messages: expectedStats(await countsInDb()),
    });
  });

  it('should grow by exactly the mailings and messages added', async () => {
    const before = await statistics();
    const added: Counts[] = [{ PENDING: 2, SENT: 3 }, { FAILED: 1, EXPIRED: 2 }, {}];
    for (const counts of added) await mailingWithMessages(counts);
    const delta = added.reduce((sum, c) => addCounts(sum, c), {} as Counts);

    const after = await statistics();
    expect(after.mailingCount).toBe(before.mailingCount + 3);
    expect(after.messages).toEqual(expectedStats(addCounts(countsOf(before.messages), delta)));
  });

  it('should count mailings of every status', async () => {
    const ids = [await createMailing(), await createMailing(), await createMailing(), await createMailing()];
    const before = await statistics();
    const statuses = ['RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED'];
    for (const [i, id] of ids.entries()) await herald.sql`update mailings set status = ${statuses[i]} where id = ${id}`;
    expect((await statistics()).mailingCount).toBe(before.mailingCount);
    expect(before.mailingCount).toBe(await mailingCountInDb());
  });

  it('should drop a deleted mailing and its messages', async () => {
    const counts = { PENDING: 1, SENT: 2, FAILED: 3 };
    const id = await mailingWithMessages(counts);
    const before = await statistics();

    expect((await herald.ok(`mutation($id: ID!) { deleteMailing(id: $id) }`, { id })).deleteMailing).toBe(true);

    const after = await statistics();
    expect(after.mailingCount).toBe(before.mailingCount - 1);
    expect(after.messages).toEqual(expectedStats(addCounts(countsOf(before.messages), counts, -1)));
  });

  it('should follow message status changes', async () => {
    const id = await mailingWithMessages({ PENDING: 3 });
    const before = await statistics();
    await herald.sql`update messages set status = 'CANCELLED' where mailing_id = ${id}`;
    const after = await statistics();
    expect(after.mailingCount).toBe(before.mailingCount);
    expect(after.messages).toEqual(
      expectedStats(addCounts(countsOf(before.messages), { PENDING: -3, CANCELLED: 3 })),
    );
  });

  it('should equal the sum of every mailing\'s own stats', async () => {
    await mailingWithMessages({ SENT: 2, EXPIRED: 1 });
    const data = await herald.ok(
      `query { statistics { mailingCount messages { ${STATS} } } mailings(first: 500) { totalCount edges { node { stats { ${STATS} } } } } }`,
    );
    expect(data.mailings.edges.length).toBe(data.mailings.totalCount);
    const sum = data.mailings.edges.reduce((acc: Counts, e: any) => addCounts(acc, countsOf(e.node.stats)), {} as Counts);
    expect(data.statistics).toEqual({ mailingCount: data.mailings.totalCount, messages: expectedStats(sum) });
  });

  it('should be readable by a viewer', async () => {
    const res = await herald.gql(STATISTICS, {}, { token: VIEWER_TOKEN });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.statistics).toEqual({
      mailingCount: await mailingCountInDb(),
      messages: expectedStats(await countsInDb()),
    });
  });

  it('should refuse a request without a token', async () => {
    const res = await herald.gql(STATISTICS, {}, { token: null });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.data ?? null).toBeNull();
  });
});

/** Counts by status as read back from a MessageStats (through byStatus). */
function countsOf(stats: { byStatus: { status: Status; count: number }[] }): Counts {
  return Object.fromEntries(stats.byStatus.map((s) => [s.status, s.count]));
}

// ---------------------------------------------------------------------------------------
// Mailing.throughput
// ---------------------------------------------------------------------------------------

describe('Mailing.throughput', () => {
  const THROUGHPUT = `query($id: ID!, $points: Int) { mailing(id: $id) { throughput(points: $points) { bucketSeconds points { at count perSecond } } } }`;

  it('should count the messages that reached SENT or FAILED per bucket, empty buckets included', async () => {
    const id = await createMailing();
    // In status order: the two PENDING first, then the four SENT and the FAILED one.
    const final = (await insertMessages(id, { PENDING: 2, SENT: 4, FAILED: 1 })).slice(2);
    const t0 = Date.parse('2026-11-30T10:00:00Z');
    // Outcomes written at 0 s, 0 s, 1 s, 3 s and 3 s: nothing at 2 s.
    const offsets = [0, 0, 1, 3, 3];
    for (const [i, offset] of offsets.entries()) {
      await herald.sql`update messages set updated_at = ${new Date(t0 + offset * 1000)} where id = ${final[i]}`;
    }
    const throughput = (await herald.ok(THROUGHPUT, { id, points: 10 })).mailing.throughput;
    expect(throughput).toEqual({
      bucketSeconds: 1,
      points: [2, 1, 0, 2].map((count, s) => ({ at: new Date(t0 + s * 1000).toISOString(), count, perSecond: count })),
    });
    // Fewer points: wider buckets, the same messages.
    const coarse = (await herald.ok(THROUGHPUT, { id, points: 1 })).mailing.throughput;
    expect(coarse.bucketSeconds).toBe(3);
    expect(coarse.points.map((p: { count: number }) => p.count)).toEqual([3, 2]);
  });

  it('should answer no points for a mailing with nothing sent yet, and refuse a bad number of points', async () => {
    const id = await mailingWithMessages({ PENDING: 3 });
    expect((await herald.ok(THROUGHPUT, { id })).mailing.throughput).toEqual({ bucketSeconds: 1, points: [] });
    const res = await herald.gql(THROUGHPUT, { id, points: 0 });
    expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'points' });
  });
});
