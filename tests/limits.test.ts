import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../src/config';
import { checkOperation } from '../src/graphql/limits';
import { buildHeraldSchema } from '../src/graphql/schema';
import { createLogger } from '../src/logger';
import { startHerald, type Herald } from '../src/main';
import { ADMIN_TOKEN, onlyError, startTestHerald, testConfig, VIEWER_TOKEN, wsOperation, type GqlResponse, type TestHerald } from './support/herald';
import { sleep, waitFor } from './support/wait';

const DEFAULTS = loadConfig({}).limits;
const limitsWith = (changes: Partial<Config['limits']>): Config['limits'] => ({ ...DEFAULTS, ...changes, ws: { ...DEFAULTS.ws, ...changes.ws } });

/** Where the log lines of the runs measured last begin (see serverMs). */
let runsLogFrom = 0;
const markRuns = () => void (runsLogFrom = herald.logs.length);

/** Milliseconds of the median of `n` runs of `run`. */
async function medianMs(run: () => Promise<unknown>, n = 3): Promise<number> {
  markRuns();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)];
}

const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { role }`).join(' ')} }`;
/** Fragments that spread the next one twice, `levels` deep: 2^levels copies of `me` once expanded (2 × levels + 1 spreads). */
const fragmentBomb = (levels: number) =>
  `query { ...F0 } ${Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F${levels} on Query { me { role } }`;
const NESTED = 'query { mailings(first: 500) { edges { node { messages(first: 500) { edges { node { id client { phone } } } } } } } }';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald({
    limits: limitsWith({ costPerMinute: 0, authFailuresPerMinute: 40, ws: { ...DEFAULTS.ws, maxSubscriptions: 3, initTimeoutMs: 300 } }),
  });
  await herald.ok('{ me { role } }'); // warm: schema, loaders, JIT
});
afterAll(() => herald?.stop());

/**
 * What the server spent refusing the runs measured last with that code (the log lines'
 * durationMs, from the body read to the answer), the least of them: that is the refusal's own
 * cost, where the others add the wait for a core of this shared machine (the whole suite
 * runs beside it). The round trip varies with the load more still.
 */
function serverMs(code: string): number {
  const lines = herald.logs.slice(runsLogFrom).filter((l) => l.msg === 'graphql operation' && l.errorCodes?.includes(code));
  if (lines.length === 0) throw new Error(`no log line of a refusal with ${code}`);
  return Math.min(...lines.map((l) => l.durationMs as number));
}

async function expectRefusal(res: GqlResponse, status: number, extensions: Record<string, unknown>) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(onlyError(res).extensions).toEqual(extensions);
  expect(res.body.data).toBeUndefined();
}

describe('limits checked before an operation runs, over HTTP', () => {
  it('should refuse 5,000 aliases with GRAPHQL_VALIDATION_FAILED, limit and count, in under 50 ms', async () => {
    const query = aliases(5_000);
    let res!: GqlResponse;
    const ms = await medianMs(async () => (res = await herald.gql(query)));
    await expectRefusal(res, 400, { code: 'GRAPHQL_VALIDATION_FAILED', limit: 50, actual: 5_000 });
    expect(serverMs('GRAPHQL_VALIDATION_FAILED')).toBeLessThan(50);
    expect(ms).toBeLessThan(250);
    expect(await herald.ok(aliases(50))).toHaveProperty('a49.role', 'ADMIN');
  });

  it('should refuse nested connections over GRAPHQL_MAX_COST with COST_LIMIT_EXCEEDED, the limit and the estimate', async () => {
    let res!: GqlResponse;
    const ms = await medianMs(async () => (res = await herald.gql(NESTED, {}, { token: VIEWER_TOKEN })));
    // 1 + 500 edges + 500 nodes + 500 message pages + 250,000 edges + 250,000 nodes + 250,000 clients
    await expectRefusal(res, 400, { code: 'COST_LIMIT_EXCEEDED', limit: 25_000, estimate: 751_501 });
    expect(serverMs('COST_LIMIT_EXCEEDED')).toBeLessThan(50);
    expect(ms).toBeLessThan(250);
    // The sizes come from the variables as well as from literals.
    const viaVariables = await herald.gql('query($n: Int) { mailings(first: $n) { edges { node { messages(first: $n) { edges { node { id } } } } } } }', { n: 200 });
    await expectRefusal(viaVariables, 400, { code: 'COST_LIMIT_EXCEEDED', limit: 25_000, estimate: 1 + 200 + 200 + 200 + 40_000 + 40_000 });
    expect(await herald.ok('query($n: Int) { mailings(first: $n) { edges { node { messages(first: $n) { edges { node { id } } } } } } }', { n: 20 })).toEqual({ mailings: { edges: [] } });
  });

  it('should refuse fragments that spread each other 20 levels deep at once, by their cost, not by expanding them', async () => {
    let res!: GqlResponse;
    const ms = await medianMs(async () => (res = await herald.gql(fragmentBomb(20))));
    await expectRefusal(res, 400, { code: 'COST_LIMIT_EXCEEDED', limit: 25_000, estimate: 2 ** 20 });
    expect(serverMs('COST_LIMIT_EXCEEDED')).toBeLessThan(50);
    expect(ms).toBeLessThan(250);
    const cycle = await herald.gql('query { ...A } fragment A on Query { me { role } ...B } fragment B on Query { ...A }');
    await expectRefusal(cycle, 400, { code: 'GRAPHQL_VALIDATION_FAILED' });
    expect(onlyError(cycle).message).toMatch(/spreads itself/);
  });

  it('should refuse what graphql-js would compare pairwise: one name asked for too often in one place, too many spreads', async () => {
    const rep = (n: number, x: string) => Array.from({ length: n }, () => x).join(' ');
    const shapes: [string, number, number][] = [
      ['{' + rep(250, 'me { role }') + '}', 25, 26], // the same field over and over
      // 25 mailings of 25 edges each: merged, the edges are 625 in one place
      ['{' + rep(25, `mailings(first: 1) { ${rep(25, 'edges { cursor }')} }`) + '}', 25, 26],
      [`query { ${rep(30, '...F')} } fragment F on Query { me { role } }`, 25, 26],
      [`query { ${Array.from({ length: 125 }, (_, i) => `...F${i}`).join(' ')} } ${Array.from({ length: 125 }, (_, i) => `fragment F${i} on Query { me { role } }`).join(' ')}`, 50, 125],
    ];
    for (const [query, limit, actual] of shapes) {
      let res!: GqlResponse;
      await medianMs(async () => (res = await herald.gql(query)));
      await expectRefusal(res, 400, { code: 'GRAPHQL_VALIDATION_FAILED', limit, actual });
      expect(serverMs('GRAPHQL_VALIDATION_FAILED')).toBeLessThan(50);
    }
    // What real documents do, a few repeats through fragments, passes.
    expect(await herald.ok('query { me { role ...R } ...M } fragment R on Principal { role } fragment M on Query { me { role } }')).toEqual({ me: { role: 'ADMIN' } });
  });

  it('should refuse a 1 MB document with GRAPHQL_VALIDATION_FAILED, and a 10 MB body before reading it', async () => {
    const big = `{ me { role } } # ${'x'.repeat(1_000_000)}`;
    let res!: GqlResponse;
    const ms = await medianMs(async () => (res = await herald.gql(big)));
    await expectRefusal(res, 400, { code: 'GRAPHQL_VALIDATION_FAILED', limit: 100_000, actual: Buffer.byteLength(big) });
    expect(serverMs('GRAPHQL_VALIDATION_FAILED')).toBeLessThan(50);
    expect(ms).toBeLessThan(250);
    const huge = await herald.gql(`{ me { role } } # ${'x'.repeat(10_000_000)}`);
    await expectRefusal(huge, 413, { code: 'BAD_REQUEST' });
  });

  it('should refuse a variable holding a million-element list before it reaches a resolver', async () => {
    const tags = Array.from({ length: 1_000_000 }, (_, i) => `t${i % 10}`);
    markRuns();
    const started = performance.now();
    const res = await herald.gql('query($tags: [String!]) { clients(filter: { tags: $tags }) { totalCount } }', { tags });
    const ms = performance.now() - started;
    await expectRefusal(res, 400, { code: 'GRAPHQL_VALIDATION_FAILED', limit: 20_000, actual: 1_000_000 });
    expect(serverMs('GRAPHQL_VALIDATION_FAILED')).toBeLessThan(50);
    // ~7 MB of JSON to send and parse; no SQL with a million parameters.
    expect(ms).toBeLessThan(1_000);
  });

  it('should refuse a batch of 100 operations while batching is off', async () => {
    const res = await fetch(`${herald.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify(Array.from({ length: 100 }, () => ({ query: '{ me { role } }' }))),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string; extensions: unknown }[] };
    expect(body.errors).toEqual([{ message: expect.stringMatching(/GRAPHQL_BATCHING/), extensions: { code: 'BAD_REQUEST' } }]);
  });

  it('should answer an unauthenticated 10 MB body with 401 from its headers, without reading it, while others are served at once', async () => {
    const unauthenticated = () =>
      new Promise<{ status: number; ms: number }>((resolve, reject) => {
        const started = performance.now();
        const url = new URL(`${herald.url}/graphql`);
        const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 10_000_000 } });
        req.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode!, ms: performance.now() - started });
        });
        req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'EPIPE' || (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
        req.write(`{"query": "{ me { role } }", "variables": {"x": ${'['.repeat(100_000)}`);
        req.end('x'.repeat(10_000_000 - 100_020));
      });
    const attempts = Promise.all([unauthenticated(), unauthenticated(), unauthenticated(), unauthenticated()]);
    const ordinary = await medianMs(() => herald.ok('{ me { role } }'));
    for (const attempt of await attempts) {
      expect(attempt.status).toBe(401);
      expect(attempt.ms).toBeLessThan(250);
    }
    expect(ordinary).toBeLessThan(100);
  });
});

describe('limits over websocket, the same as over HTTP', () => {
  it('should refuse aliases, cost and size over the socket with the same codes', async () => {
    expect((await wsOperation(herald.url, aliases(5_000))).errors?.map((e) => e.extensions)).toEqual([{ code: 'GRAPHQL_VALIDATION_FAILED', limit: 50, actual: 5_000 }]);
    expect((await wsOperation(herald.url, NESTED)).errors?.map((e) => e.extensions)).toEqual([{ code: 'COST_LIMIT_EXCEEDED', limit: 25_000, estimate: 751_501 }]);
    expect((await wsOperation(herald.url, fragmentBomb(20))).errors?.map((e) => e.extensions?.code)).toEqual(['COST_LIMIT_EXCEEDED']);
    expect((await wsOperation(herald.url, fragmentBomb(40))).errors?.map((e) => e.extensions)).toEqual([{ code: 'GRAPHQL_VALIDATION_FAILED', limit: 50, actual: 81 }]);
  });

  it('should close a socket that sends a frame over WS_MAX_PAYLOAD_BYTES (1009)', async () => {
    const socket = new WebSocket(`${herald.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_TOKEN}`, pad: 'x'.repeat(10_000_000) } }));
    expect(await closed).toBe(1009);
  });

  it('should close a socket that sends no connection_init within WS_INIT_TIMEOUT_MS (4408)', async () => {
    const socket = new WebSocket(`${herald.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const started = Date.now();
    const code = await new Promise<number>((resolve) => socket.once('close', (c) => resolve(c)));
    expect(code).toBe(4408);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('should refuse an operation beyond WS_MAX_SUBSCRIPTIONS on one connection with RATE_LIMITED', async () => {
    const socket = await initialised(ADMIN_TOKEN);
    const answers: { id: string; type: string; payload?: any }[] = [];
    socket.on('message', (data) => answers.push(JSON.parse(String(data))));
    for (const id of ['1', '2', '3', '4']) socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: 'subscription { statisticsChanged { mailingCount } }' } }));
    const refusal = await waitFor(() => answers.find((a) => a.type === 'error'), 5_000, 'the fourth refused');
    expect(refusal).toEqual({ id: '4', type: 'error', payload: [{ message: expect.stringMatching(/at most 3/), extensions: { code: 'RATE_LIMITED', limit: 3 } }] });
    await waitFor(() => new Set(answers.filter((a) => a.type === 'next').map((a) => a.id)).size === 3, 5_000, 'a snapshot for each of the three');
    socket.close();
  });

  it('should close a socket that floods more than WS_MAX_MESSAGES_PER_SECOND with 4429', async () => {
    const socket = await initialised(ADMIN_TOKEN);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    for (let i = 0; i < 500; i++) socket.send(JSON.stringify({ type: 'ping' }));
    expect(await closed).toBe(4429);
  });

  it('should accept WS_MAX_CONNECTIONS_PER_TOKEN sockets of 1,000 for one token, refuse the rest with 4429, and stay fast for others', async () => {
    const outcomes = Promise.all(Array.from({ length: 1_000 }, () => initialisedOrClosed(VIEWER_TOKEN)));
    const ordinary = await medianMs(() => herald.ok('{ me { role } }'));
    const results = await outcomes;
    const accepted = results.filter((r): r is WebSocket => r instanceof WebSocket);
    expect(accepted).toHaveLength(20);
    expect(results.filter((r) => r === 4429)).toHaveLength(980);
    expect(ordinary).toBeLessThan(100);
    // Another token is not counted against this one; and a closed socket frees its place.
    const admin = await initialised(ADMIN_TOKEN);
    accepted[0].close();
    await waitFor(async () => (await initialisedOrClosed(VIEWER_TOKEN)) instanceof WebSocket, 5_000, 'a freed place');
    for (const socket of [admin, ...accepted]) socket.close();
  });
});

describe('introspection and suggestions', () => {
  it('should answer introspection and suggest names where introspection is on (development)', async () => {
    expect((await herald.ok('{ __schema { queryType { name } } }')).__schema.queryType.name).toBe('Query');
    expect(onlyError(await herald.gql('{ mailngs { totalCount } }')).message).toMatch(/Did you mean "mailings"/);
  });
});

describe('production-like: introspection off, a cost budget shared by two processes', () => {
  let strict: TestHerald;
  let twin: Herald;

  beforeAll(async () => {
    const limits = limitsWith({ introspection: false, costPerMinute: 500 });
    strict = await startTestHerald({ limits });
    // A second Herald on the same database, as a second api process would be.
    twin = await startHerald(testConfig({ databaseUrl: strict.databaseUrl, limits }), createLogger('silent'));
  });
  afterAll(async () => {
    await twin?.stop();
    await strict?.stop();
  });

  it('should refuse introspection over HTTP and websocket, and suggest no names', async () => {
    await expectRefusal(await strict.gql('{ __schema { types { name } } }'), 400, { code: 'GRAPHQL_VALIDATION_FAILED' });
    await expectRefusal(await strict.gql('{ __type(name: "Mailing") { fields { name } } }'), 400, { code: 'GRAPHQL_VALIDATION_FAILED' });
    expect((await wsOperation(strict.url, '{ __schema { types { name } } }')).errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const typo = onlyError(await strict.gql('{ mailngs { totalCount } }'));
    expect(typo.message).toBe('Cannot query field "mailngs" on type "Query".');
    const wsTypo = await wsOperation(strict.url, '{ mailngs { totalCount } }');
    expect(wsTypo.errors?.map((e) => e.message)).toEqual(['Cannot query field "mailngs" on type "Query".']);
    // __typename is no introspection: Apollo Client asks for it everywhere.
    expect(await strict.ok('{ me { __typename role } }')).toEqual({ me: { __typename: 'Principal', role: 'ADMIN' } });
  });

  it('should answer RATE_LIMITED with HTTP 429, Retry-After and retryAfter once a token has spent its minute, in either process', async () => {
    const [{ s }] = await strict.sql<{ s: number }[]>`select extract(second from now())::int as s`;
    if (s > 55) await sleep((61 - s) * 1000); // all in one minute
    const page = '{ mailings(first: 100) { edges { node { id } } } }'; // 1 + 100 + 100
    expect(await strict.ok(page)).toEqual({ mailings: { edges: [] } });
    const twinRes = await fetch(`${twin.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: page }),
    });
    expect(twinRes.status).toBe(200); // 402 of 500 spent
    const refused = await fetch(`${twin.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: page }),
    });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await refused.json()).toEqual({ errors: [{ message: expect.stringMatching(/budget of 500/), extensions: { code: 'RATE_LIMITED', retryAfter, limit: 500 } }] });
    await expectRefusal(await strict.gql(page), 429, { code: 'RATE_LIMITED', retryAfter: expect.any(Number), limit: 500 });
    // The same budget over the socket; another token has its own.
    expect((await wsOperation(strict.url, page)).errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
    expect(await strict.ok(page, {}, { token: VIEWER_TOKEN })).toEqual({ mailings: { edges: [] } });
    // What is kept: a digest per principal and minute, no token.
    const rows = await strict.sql<{ key: string; spent: number }[]>`
      select key, spent::int from cost_windows where window_start = date_trunc('minute', now()) order by spent desc`;
    // (the admin may have spent 1–2 more on the test above, if it ran in this minute)
    expect(rows.map((r) => r.spent)).toEqual([expect.toSatisfy((n: number) => n >= 402 && n <= 404), 201]);
    for (const row of rows) expect(row.key).not.toContain(ADMIN_TOKEN.slice(0, 8));
  });
});

describe('batching, where GRAPHQL_BATCHING allows it', () => {
  const post = (h: TestHerald, body: unknown) =>
    fetch(`${h.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${VIEWER_TOKEN}` },
      body: JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));
  let batching: TestHerald;
  beforeAll(async () => {
    batching = await startTestHerald({ limits: limitsWith({ batching: 2, costPerMinute: 0 }) });
  });
  afterAll(() => batching?.stop());

  it('should run up to that many operations in one array, checking each, and refuse a longer array', async () => {
    expect(await post(batching, [{ query: '{ me { role } }' }, { query: '{ statistics { mailingCount } }' }])).toEqual({
      status: 200,
      body: [{ data: { me: { role: 'VIEWER' } } }, { data: { statistics: { mailingCount: 0 } } }],
    });
    const tooMany = await post(batching, Array.from({ length: 3 }, () => ({ query: '{ me { role } }' })));
    expect(tooMany).toEqual({ status: 400, body: { errors: [{ message: expect.stringMatching(/at most 2/), extensions: { code: 'BAD_REQUEST' } }] } });
    const oneTooCostly = await post(batching, [{ query: '{ me { role } }' }, { query: NESTED }]);
    expect(oneTooCostly.status).toBe(400);
    expect(oneTooCostly.body.errors.map((e: any) => e.extensions.code)).toEqual(['COST_LIMIT_EXCEEDED']);
  });
});

describe("the console's operations under the default limits", () => {
  it('should pass every operation of console/src/operations.ts, at the largest page the console asks for', async () => {
    const schema = await buildHeraldSchema();
    const source = readFileSync(new URL('../console/src/operations.ts', import.meta.url), 'utf8');
    const blocks = [...source.matchAll(/graphql\(`([\s\S]*?)`\)/g)].map((m) => m[1]);
    const fragments = blocks.filter((b) => b.trim().startsWith('fragment')).join('\n');
    const operations = blocks.filter((b) => !b.trim().startsWith('fragment'));
    expect(operations.length).toBeGreaterThan(20);
    for (const operation of operations) {
      const checked = checkOperation(schema, { ...DEFAULTS, maxDepth: loadConfig({}).graphqlMaxDepth }, `${operation}\n${fragments}`, { first: 100, id: '1' }, undefined);
      expect(checked, operation).toMatchObject({ cost: expect.any(Number) });
      expect((checked as { cost: number }).cost, operation).toBeLessThan(DEFAULTS.maxCost / 10);
    }
  });
});

// Last: this file's address has failed often by the end of it.
describe('failed authentications per address', () => {
  it('should log the first 20 refusals of a minute one by one, then refuse the address with RATE_LIMITED past AUTH_FAILURES_PER_MINUTE', async () => {
    const before = herald.logs.filter((l) => l.msg === 'unauthenticated request refused').length;
    // 40 a minute: this file has failed a few times already (the unauthenticated bodies above).
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await herald.gql('{ me { role } }', {}, { token: `wrong-token-${i}-0123456789abcdef` })).status);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(30);
    expect(statuses.slice(statuses.indexOf(429) >>> 0)).toEqual(statuses.includes(429) ? statuses.slice(statuses.indexOf(429)).map(() => 429) : []);
    const refused = await herald.gql('{ me { role } }', {}, { token: 'wrong-token-again-0123456789abcdef' });
    await expectRefusal(refused, 429, { code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    // Even a good token from that address waits for the minute to end: its guesses are not tried.
    expect((await herald.gql('{ me { role } }')).status).toBe(429);
    expect((await wsOperation(herald.url, '{ me { role } }')).closeCode).toBe(4429);
    const logged = herald.logs.filter((l) => l.msg === 'unauthenticated request refused').length - before;
    expect(logged).toBeLessThanOrEqual(20);
    expect(herald.rawLog.filter((line) => line.includes('wrong-token-'))).toEqual([]);
  });
});

/** A graphql-transport-ws socket that has been acknowledged, or the code it was closed with. */
function initialisedOrClosed(token: string): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${herald.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.once('message', (data) => (JSON.parse(String(data)).type === 'connection_ack' ? resolve(socket) : reject(new Error(String(data)))));
    socket.once('close', (code) => resolve(code));
    socket.once('error', reject);
  });
}

async function initialised(token: string): Promise<WebSocket> {
  const outcome = await initialisedOrClosed(token);
  if (!(outcome instanceof WebSocket)) throw new Error(`socket closed with ${outcome}`);
  return outcome;
}
