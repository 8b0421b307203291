import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  ADMIN_TOKEN,
  onlyError,
  startTestHerald,
  VIEWER_TOKEN,
  wsOperation,
  type GqlResponse,
  type TestHerald,
} from './support/herald';

// Tokens Herald does not know; sent below, and never to be seen in a response or a log line.
const UNKNOWN_TOKEN = 'unknown-token-never-issued-7c41f09a';
const UNKNOWN_WS_TOKEN = 'unknown-ws-token-never-issued-93b2de';

const READ = 'query { clients { totalCount } }';
const createClient = (phone: string) => `mutation { createClient(input: { phone: "${phone}", timezone: "UTC" }) { id phone } }`;

let herald: TestHerald;
beforeAll(async () => {
  // At the most talkative level, so that no debug line may carry a token either.
  herald = await startTestHerald({ logLevel: 'trace' });
});
afterAll(() => herald?.stop());

/** A POST /graphql with exactly this Authorization header (or none). */
async function postWithHeader(authorization: string | undefined, query = READ): Promise<GqlResponse & { text: string }> {
  const res = await fetch(`${herald.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
    body: JSON.stringify({ query }),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

async function clientPhones(): Promise<string[]> {
  const rows = await herald.sql<{ phone: string }[]>`select phone from clients order by id`;
  return rows.map((r) => r.phone);
}

describe('authentication over HTTP', () => {
  it.each([
    ['no Authorization header', undefined],
    ['an unknown token', `Bearer ${UNKNOWN_TOKEN}`],
    ['"Token x" instead of a bearer token', 'Token x'],
    ['a known token under another scheme', `Token ${ADMIN_TOKEN}`],
    ['a known token without a scheme', ADMIN_TOKEN],
    ['"Bearer" alone', 'Bearer'],
    ['"Bearer" and blanks', 'Bearer   '],
    ['a known token followed by another word', `Bearer ${ADMIN_TOKEN} extra`],
  ])('should answer %s with HTTP 401, one UNAUTHENTICATED error and no data', async (_case, authorization) => {
    const res = await postWithHeader(authorization);
    expect(res.status).toBe(401);
    expect(onlyError(res).extensions).toEqual({ code: 'UNAUTHENTICATED' });
    expect(res.body).not.toHaveProperty('data');
    for (const token of [ADMIN_TOKEN, VIEWER_TOKEN, UNKNOWN_TOKEN]) expect(res.text).not.toContain(token);
  });

  it('should refuse a mutation without a token before writing anything', async () => {
    const res = await postWithHeader(undefined, createClient('79000000001'));
    expect(res.status).toBe(401);
    expect(onlyError(res).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await clientPhones()).not.toContain('79000000001');
  });

  it('should let the admin query and mutate', async () => {
    const created = await herald.ok(createClient('79000000002'));
    expect(created.createClient.phone).toBe('79000000002');
    expect(await clientPhones()).toContain('79000000002');
    const read = await herald.gql(`query { client(id: "${created.createClient.id}") { phone } }`);
    expect(read).toEqual({ status: 200, body: { data: { client: { phone: '79000000002' } } } });
  });

  it('should let a viewer query', async () => {
    const res = await herald.gql('query { clients { edges { node { phone } } } }', {}, { token: VIEWER_TOKEN });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.clients.edges.map((e: any) => e.node.phone)).toEqual(await clientPhones());
  });

  it.each([
    ['a mutation', createClient('79000000003'), undefined],
    [
      'the mutation of a document that also holds a query',
      `query Read { clients { totalCount } } ${createClient('79000000003').replace('mutation', 'mutation Write')}`,
      'Write',
    ],
  ])('should refuse %s by a viewer with HTTP 403 FORBIDDEN and write nothing', async (_case, query, operationName) => {
    const before = await clientPhones();
    const res = await herald.gql(query, {}, { token: VIEWER_TOKEN, operationName });
    expect(res.status).toBe(403);
    expect(onlyError(res).extensions).toEqual({ code: 'FORBIDDEN' });
    expect(res.body.data ?? null).toBeNull();
    expect(JSON.stringify(res.body)).not.toContain(VIEWER_TOKEN);
    expect(await clientPhones()).toEqual(before);
  });

  it('should tell each token its role, so that a client can show a viewer no write buttons', async () => {
    expect((await herald.ok(`{ me { role } }`)).me).toEqual({ role: 'ADMIN' });
    expect((await herald.ok(`{ me { role } }`, {}, { token: VIEWER_TOKEN })).me).toEqual({ role: 'VIEWER' });
  });

  it('should let a viewer run the query of a document that also holds a mutation', async () => {
    const res = await herald.gql(`query Read { clients { totalCount } } mutation Write { deleteClient(id: "1") }`, {}, {
      token: VIEWER_TOKEN,
      operationName: 'Read',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { clients: { totalCount: (await clientPhones()).length } } });
  });
});

describe('authentication over websocket', () => {
  it.each([
    ['no connectionParams', null],
    ['an unknown token', UNKNOWN_WS_TOKEN],
  ])('should close a socket with %s with code 4401 before running anything', async (_case, token) => {
    const outcome = await wsOperation(herald.url, READ, { token });
    expect(outcome).toEqual({ results: [], closeCode: 4401 });
  });

  it.each([['authorization'], ['Authorization']])('should accept the token as connectionParams.%s', async (key) => {
    const client = createWsClient({
      url: `${herald.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { [key]: `Bearer ${VIEWER_TOKEN}` },
      retryAttempts: 0,
    });
    try {
      const result = await client.iterate({ query: `{ me { role } }` }).next();
      expect(result.value).toEqual({ data: { me: { role: 'VIEWER' } } });
    } finally {
      await client.dispose();
    }
  });

  it('should let a viewer run a query over the socket', async () => {
    const outcome = await wsOperation(herald.url, READ, { token: VIEWER_TOKEN });
    expect(outcome).toEqual({ results: [{ data: { clients: { totalCount: (await clientPhones()).length } } }] });
  });

  it('should refuse a viewer mutation over the socket with one FORBIDDEN error and write nothing', async () => {
    const before = await clientPhones();
    const outcome = await wsOperation(herald.url, createClient('79000000004'), { token: VIEWER_TOKEN });
    expect(outcome.results).toEqual([]);
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors![0].extensions).toEqual({ code: 'FORBIDDEN' });
    expect(JSON.stringify(outcome.errors)).not.toContain(VIEWER_TOKEN);
    expect(await clientPhones()).toEqual(before);
  });

  it('should refuse the mutation a viewer picks by operationName from a mixed document', async () => {
    const before = await clientPhones();
    const outcome = await wsOperation(
      herald.url,
      `query Read { clients { totalCount } } ${createClient('79000000005').replace('mutation', 'mutation Write')}`,
      { token: VIEWER_TOKEN, operationName: 'Write' },
    );
    expect(outcome.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(await clientPhones()).toEqual(before);
  });

  it('should let the admin mutate over the socket', async () => {
    const outcome = await wsOperation(herald.url, createClient('79000000006'), { token: ADMIN_TOKEN });
    expect(outcome.errors).toBeUndefined();
    expect(outcome.results).toHaveLength(1);
    expect(outcome.results[0].errors).toBeUndefined();
    expect((outcome.results[0].data as any).createClient.phone).toBe('79000000006');
    expect(await clientPhones()).toContain('79000000006');
  });
});

// Runs last (tests in a file run in order): every token above has been sent by now.
describe('logs', () => {
  it('should record refusals without any token sent to Herald in any log line', () => {
    const refusals = herald.logs.filter((l) => l.msg === 'unauthenticated request refused');
    expect(refusals.filter((l) => l.transport === 'http').length).toBeGreaterThanOrEqual(8);
    expect(refusals.filter((l) => l.transport === 'websocket').length).toBeGreaterThanOrEqual(2);
    for (const token of [ADMIN_TOKEN, VIEWER_TOKEN, UNKNOWN_TOKEN, UNKNOWN_WS_TOKEN]) {
      expect(herald.rawLog.filter((line) => line.includes(token))).toEqual([]);
    }
  });
});
