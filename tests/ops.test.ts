import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { portAccepts } from './support/process';
import { ADMIN_TOKEN, dropDatabase, onlyError, startTestHerald, wsOperation, type TestHerald } from './support/herald';

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(() => herald?.stop());

/** A Herald of the test's own, stopped (and its database dropped) when the test ends. */
async function ownHerald(overrides: Parameters<typeof startTestHerald>[0] = {}) {
  const own = await startTestHerald(overrides);
  onTestFinished(() => own.stop());
  return own;
}

const operationLines = (h: TestHerald, operationName: string) =>
  h.logs.filter((l) => l.msg === 'graphql operation' && l.operationName === operationName);

describe('health endpoints', () => {
  it.each([
    ['/healthz', { status: 'ok' }],
    ['/readyz', { status: 'ready' }],
  ])('should answer GET %s with 200 and %j without a token', async (path, body) => {
    const res = await fetch(`${herald.url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(body);
  });

  it('should answer /readyz with 503 naming the database once the database is gone, while /healthz stays 200', async () => {
    const own = await ownHerald();
    expect((await fetch(`${own.url}/readyz`)).status).toBe(200);
    await dropDatabase(own.databaseUrl);

    const started = Date.now();
    const res = await fetch(`${own.url}/readyz`);
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body).toEqual({ status: 'not ready', failing: { database: expect.any(String) } });
    expect(body.failing.database).not.toBe('');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await fetch(`${own.url}/healthz`)).status).toBe(200);
  });
});

describe('GraphiQL', () => {
  async function graphiqlPage() {
    const res = await fetch(`${herald.url}/graphql`, { headers: { accept: 'text/html' } });
    return { res, html: await res.text() };
  }
  const attributes = (html: string, name: 'src' | 'href') =>
    [...html.matchAll(new RegExp(`<(?:script|link)\\b[^>]*\\b${name}="([^"]*)"`, 'g'))].map((m) => m[1]);

  it('should serve an HTML page on GET /graphql from a browser, without a token', async () => {
    const { res, html } = await graphiqlPage();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('GraphiQL');
    expect(html).toContain('id="graphiql"');
  });

  it("should load every script and stylesheet from Herald's own /graphiql/ paths only", async () => {
    const { html } = await graphiqlPage();
    const assets = [...attributes(html, 'src'), ...attributes(html, 'href')];
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/graphiql\/[\w.-]+$/);
      expect(asset).not.toMatch(/^(https?:)?\/\//);
    }
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
  });

  it('should serve each referenced asset with a JavaScript or CSS content type', async () => {
    const { html } = await graphiqlPage();
    const assets = [...attributes(html, 'src'), ...attributes(html, 'href')];
    for (const asset of assets) {
      const res = await fetch(`${herald.url}${asset}`);
      expect(res.status, asset).toBe(200);
      const type = asset.endsWith('.css') ? /^text\/css/ : /^(application|text)\/javascript/;
      expect(res.headers.get('content-type'), asset).toMatch(type);
      expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(5_000);
    }
  });

  it.each(['/graphiql/unknown.js', '/graphiql/..%2Fpackage.json', '/graphiql/%2E%2E%2F%2E%2E%2Fpackage.json'])(
    'should answer GET %s with 404',
    async (path) => {
      const res = await fetch(`${herald.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('"name"');
    },
  );

  it('should still answer a POST query on /graphql', async () => {
    const res = await herald.gql('query { clients { totalCount } }');
    expect(res).toEqual({ status: 200, body: { data: { clients: { totalCount: 0 } } } });
  });
});

describe('operation logging', () => {
  it('should log one line for a successful named operation with its type, duration and outcome', async () => {
    await herald.ok('query CountClientsForLog { clients { totalCount } }');
    const lines = operationLines(herald, 'CountClientsForLog');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, operationType: 'query', role: 'admin', outcome: 'ok' });
    expect(lines[0].durationMs).toEqual(expect.any(Number));
    expect(lines[0].durationMs).toBeGreaterThanOrEqual(0);
    expect(lines[0]).not.toHaveProperty('errorCodes');
  });

  it('should log one line with outcome error and the error codes for a failed operation', async () => {
    const res = await herald.gql('mutation CreateBadClientForLog { createClient(input: { phone: "12", timezone: "UTC" }) { id } }');
    expect(onlyError(res).extensions?.code).toBe('BAD_USER_INPUT');
    const lines = operationLines(herald, 'CreateBadClientForLog');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ operationType: 'mutation', outcome: 'error', errorCodes: ['BAD_USER_INPUT'] });
    expect(lines[0].durationMs).toEqual(expect.any(Number));
  });
});

describe('error masking', () => {
  const LEAKS = [/timezone/i, /select/i, /does not exist/i, /stack/i, /drizzle/i, /postgres/i, /failed query/i, /\.ts:\d+/];

  it('should answer an internal error as a bare INTERNAL_SERVER_ERROR, over HTTP and websocket, and log its cause', async () => {
    const own = await ownHerald();
    await own.sql`alter table clients rename column timezone to tz`;

    const res = await own.gql('query ListClientsBroken { clients { edges { node { id } } } }');
    const error = onlyError(res);
    expect(error.message).toBe('Internal server error');
    expect(error.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    for (const leak of LEAKS) expect(JSON.stringify(res.body)).not.toMatch(leak);

    const ws = await wsOperation(own.url, 'query { clients { edges { node { id } } } }');
    expect(ws.results).toHaveLength(1);
    expect(ws.results[0].errors).toHaveLength(1);
    expect(ws.results[0].errors![0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    for (const leak of LEAKS) expect(JSON.stringify(ws.results)).not.toMatch(leak);

    const causes = own.logs.filter((l) => l.level === 50 && /timezone.*does not exist/.test(JSON.stringify(l)));
    expect(causes).toHaveLength(2);
    expect(operationLines(own, 'ListClientsBroken')).toMatchObject([{ outcome: 'error', errorCodes: ['INTERNAL_SERVER_ERROR'] }]);
  });

  it.each([
    ['an unknown field', 'query { clients { nope } }', 'GRAPHQL_VALIDATION_FAILED'],
    ['a syntax error', 'query { clients { ', 'GRAPHQL_PARSE_FAILED'],
  ])('should answer %s with %s over HTTP and websocket, without a stack trace', async (_case, query, code) => {
    const res = await herald.gql(query);
    expect(res.status).toBe(400);
    const error = onlyError(res);
    expect(error.extensions).toEqual({ code });
    expect(res.body.data).toBeUndefined();

    const ws = await wsOperation(herald.url, query);
    expect(ws.results).toEqual([]);
    expect(ws.errors).toHaveLength(1);
    expect(ws.errors![0].extensions).toEqual({ code });
    expect(ws.errors![0].message).toBe(error.message);
  });

  it('should answer a body that is not JSON with 400 and no stack trace', async () => {
    const res = await fetch(`${herald.url}/graphql`, {
      method: 'POST',
      // A valid token: without one, the answer (401) comes before the body is read at all.
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: '{"query": ',
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toMatch(/\bat .*\(|node_modules|\.js:\d+/);
    expect(JSON.parse(text)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } }] });
  });
});

describe('depth limit', () => {
  let shallow: TestHerald;
  beforeAll(async () => {
    shallow = await startTestHerald({ graphqlMaxDepth: 3 });
  });
  afterAll(() => shallow?.stop());

  const TOO_DEEP = [
    ['7 levels', 'query { mailings { edges { node { messages { edges { node { client { id } } } } } } } }'],
    ['4 levels', 'query { mailings { edges { node { stats { total } } } } }'],
    [
      '4 levels through fragments',
      'query { mailings { ...Edges } } fragment Edges on MailingConnection { edges { ... on MailingEdge { node { stats { total } } } } }',
    ],
  ];

  it.each(TOO_DEEP)('should refuse a query nested %s deep over HTTP with GRAPHQL_VALIDATION_FAILED', async (_case, query) => {
    const res = await shallow.gql(query);
    expect(res.status).toBe(400);
    expect(onlyError(res).extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
    expect(onlyError(res).message).toMatch(/at most 3/);
    expect(res.body.data).toBeUndefined();
  });

  it.each(TOO_DEEP)('should refuse a query nested %s deep over websocket with an error, not data', async (_case, query) => {
    const ws = await wsOperation(shallow.url, query);
    expect(ws.results).toEqual([]);
    expect(ws.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('should run a query exactly at the limit over HTTP and websocket', async () => {
    const query = 'query { mailings { edges { node { id } } } }';
    expect(await shallow.ok(query)).toEqual({ mailings: { edges: [] } });
    expect(await wsOperation(shallow.url, query)).toEqual({ results: [{ data: { mailings: { edges: [] } } }] });
  });
});

describe('graceful stop', () => {
  it('should close open sockets and stop accepting connections on its port after stop()', async () => {
    const own = await startTestHerald();
    expect(await portAccepts(own.url)).toBe(true);
    let closed!: (code: number) => void;
    const socketClosed = new Promise<number>((resolve) => (closed = resolve));
    const connected = new Promise<void>((resolve) => {
      const client = createClient({
        url: `${own.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => {}, // the close is what this test watches, through `closed`
        on: { connected: () => resolve(), closed: (event) => closed((event as { code: number }).code) },
      });
      onTestFinished(() => client.dispose());
    });
    await connected;

    await own.stop();
    expect(await socketClosed).toBe(1001);
    expect(await portAccepts(own.url)).toBe(false);
    await expect(fetch(`${own.url}/healthz`)).rejects.toThrow();
  });
});
