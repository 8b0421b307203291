// Issue 21, item 4: what a request costs the api process that need not be. The cost budget
// grants small charges in memory and writes them in batches (keeping its refusals the
// database's); the limits are checked once per document text; concurrent statistics reads
// share one database read. Real PostgreSQL, a real Herald; no timing asserted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coalescedRead } from '../src/common/coalesced-read';
import { connectDatabase, type Database } from '../src/db/connection';
import { OperationChecker } from '../src/graphql/limits';
import { buildHeraldSchema } from '../src/graphql/schema';
import { createLogger } from '../src/logger';
import { CostBudget } from '../src/ratelimit/cost-budget';
import { ADMIN_TOKEN, startTestHerald, type TestHerald } from './support/herald';
import { sleep } from './support/wait';

describe('the cost budget, batched', () => {
  let h: TestHerald;
  let database: Database;

  beforeAll(async () => {
    h = await startTestHerald();
    database = connectDatabase(h.databaseUrl);
  });
  afterAll(async () => {
    await database?.close();
    await h?.stop();
  });

  const spentBy = async (keyLike: string) => {
    const rows = await h.sql<{ spent: number }[]>`select spent::int from cost_windows where key = ${keyLike} and window_start = date_trunc('minute', now())`;
    return rows[0]?.spent ?? 0;
  };
  const keyOf = async (id: string) => (await import('node:crypto')).createHash('sha256').update(id).digest('base64url').slice(0, 22);

  it('should grant cheap charges without a write each, then write them all in one batch', async () => {
    const [{ s }] = await h.sql<{ s: number }[]>`select extract(second from now())::int as s`;
    if (s > 55) await sleep((61 - s) * 1000); // all in one minute
    const budget = new CostBudget(database.db, 100_000, createLogger('silent'));
    const principal = { id: 'api-cpu:cheap', role: 'admin' as const };
    for (let i = 0; i < 50; i++) await budget.charge(principal, 1);
    // Granted in memory: nothing written yet (the batch goes out COST_FLUSH_MS after the first).
    expect(await spentBy(await keyOf(principal.id))).toBe(0);
    await budget.flush();
    expect(await spentBy(await keyOf(principal.id))).toBe(50);
  });

  it('should leave every refusal to the database: a second process sees what the first spent, written before its large charge', async () => {
    const [{ s }] = await h.sql<{ s: number }[]>`select extract(second from now())::int as s`;
    if (s > 55) await sleep((61 - s) * 1000);
    const log = createLogger('silent');
    const [one, two] = [new CostBudget(database.db, 1_000, log), new CostBudget(database.db, 1_000, log)];
    const principal = { id: 'api-cpu:shared', role: 'admin' as const };
    // 10 (1% of 1,000) granted in memory by the first; then 400 (over 1%) asks the database, the 10 written first.
    for (let i = 0; i < 10; i++) await one.charge(principal, 1);
    await one.charge(principal, 400);
    expect(await spentBy(await keyOf(principal.id))).toBe(410);
    await two.charge(principal, 400);
    await expect(two.charge(principal, 400)).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED', limit: 1_000 } });
    expect(await spentBy(await keyOf(principal.id))).toBe(810);
    // The first learnt, from its last answer, only what it had spent itself: its next large charge asks, and is refused.
    await expect(one.charge(principal, 200)).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    // Once refused, even a cheap charge asks the database until the minute ends: 1 more fits, and is written at once.
    await one.charge(principal, 1);
    expect(await spentBy(await keyOf(principal.id))).toBe(811);
  });

  it('should answer the same for a document checked again, and measure a cost that names variables each time', async () => {
    const checker = new OperationChecker(await buildHeraldSchema(), { maxDepth: 10, maxCost: 5_000, maxAliases: 30, maxDocumentBytes: 100_000, introspection: true });
    const fixed = '{ statistics { mailingCount } }';
    const first = checker.check(fixed, undefined, undefined);
    expect(checker.check(fixed, undefined, undefined)).toBe(first); // the same answer, the document parsed once
    const paged = 'query($n: Int) { mailings(first: $n) { edges { node { id } } } }';
    expect(checker.check(paged, { n: 10 }, undefined)).toMatchObject({ cost: 21 });
    expect(checker.check(paged, { n: 4_000 }, undefined)).toMatchObject({ extensions: { code: 'COST_LIMIT_EXCEEDED' } });
    expect(checker.check(paged, { n: 10 }, undefined)).toMatchObject({ cost: 21 });
    // A variable's list is checked each time, before the cached answer.
    expect(checker.check(fixed, { big: Array.from({ length: 100_000 }, () => 1) }, undefined)).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });

  it('should share one statistics read among requests asked at once, each read after it was asked for', async () => {
    let reads = 0;
    let value = 0;
    let release: () => void = () => {};
    const read = coalescedRead(async () => {
      reads++;
      const seen = value;
      await new Promise<void>((r) => (release = r));
      return seen;
    });
    const first = read();
    value = 1; // changed after the first read began: later calls must not share it
    const later = [read(), read(), read()];
    release();
    expect(await first).toBe(0);
    await sleep(10);
    release();
    expect(await Promise.all(later)).toEqual([1, 1, 1]);
    expect(reads).toBe(2);
    // Over HTTP, 16 at once all answered.
    const answers = await Promise.all(
      Array.from({ length: 16 }, () =>
        fetch(`${h.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
          body: JSON.stringify({ query: '{ statistics { mailingCount } }' }),
        }).then(async (res) => ({ status: res.status, cacheControl: res.headers.get('cache-control'), etag: res.headers.get('etag'), body: await res.json() })),
      ),
    );
    for (const a of answers) expect(a).toEqual({ status: 200, cacheControl: 'no-store', etag: null, body: { data: { statistics: { mailingCount: 0 } } } });
  });
});
