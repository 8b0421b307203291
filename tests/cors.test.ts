import type { IncomingMessage } from 'node:http';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_TOKEN, startTestHerald, type TestHerald } from './support/herald';

const ALLOWED = 'http://console.example:5173';
const REFUSED = 'http://elsewhere.example';
const QUERY = JSON.stringify({ query: '{ me { role } }' });

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald({ corsOrigins: [ALLOWED] });
});
afterAll(() => herald?.stop());

const preflight = (origin: string) =>
  fetch(`${herald.url}/graphql`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
const post = (origin: string, contentType = 'application/json') =>
  fetch(`${herald.url}/graphql`, { method: 'POST', headers: { origin, 'content-type': contentType, authorization: `Bearer ${ADMIN_TOKEN}` }, body: QUERY });

/** Opens a graphql-ws socket sent with `Origin: origin` and runs `{ me { role } }` over it. */
async function wsQueryFrom(origin: string) {
  class FromOrigin extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { origin });
    }
  }
  const client = createClient({
    url: `${herald.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: FromOrigin,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
    retryAttempts: 0,
  });
  try {
    return (await client.iterate({ query: '{ me { role } }' }).next()).value;
  } finally {
    await client.dispose();
  }
}

/** The HTTP status the server answers a websocket upgrade from `origin` with, when it refuses it. */
function refusedUpgrade(origin: string): Promise<number | 'accepted'> {
  const ws = new WebSocket(`${herald.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { origin });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.close();
      resolve('accepted');
    });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}

describe('a page on an origin listed in CORS_ORIGINS', () => {
  it('should get its preflight answered and CORS headers on its requests', async () => {
    const pre = await preflight(ALLOWED);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);

    const res = await post(ALLOWED);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(await res.json()).toEqual({ data: { me: { role: 'ADMIN' } } });
  });

  it('should have its websocket accepted', async () => {
    expect(await wsQueryFrom(ALLOWED)).toEqual({ data: { me: { role: 'ADMIN' } } });
  });

  it('should still be held to CSRF prevention: a request a form could send is refused', async () => {
    const res = await post(ALLOWED, 'text/plain');
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF/);
  });
});

describe('a page on another origin', () => {
  it('should get neither CORS headers nor an answer over HTTP', async () => {
    for (const res of [await preflight(REFUSED), await post(REFUSED)]) {
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect((await res.json()).errors[0].extensions).toEqual({ code: 'FORBIDDEN' });
    }
    expect(herald.logs.some((l) => l.msg === 'request from a refused origin' && l.transport === 'http' && l.origin === REFUSED)).toBe(true);
  });

  it('should have its websocket refused at the upgrade', async () => {
    expect(await refusedUpgrade(REFUSED)).toBe(403);
    expect(herald.logs.some((l) => l.msg === 'request from a refused origin' && l.transport === 'websocket')).toBe(true);
  });
});

describe("Herald's own origin and clients that are not pages", () => {
  it('should be served without any CORS header needed', async () => {
    const own = await post(herald.url);
    expect(own.status).toBe(200);
    expect(own.headers.get('access-control-allow-origin')).toBeNull();
    expect(await wsQueryFrom(herald.url)).toEqual({ data: { me: { role: 'ADMIN' } } });
    // No Origin at all: curl, a server, the graphql-ws client in Node.
    expect((await herald.gql('{ me { role } }')).status).toBe(200);
  });
});
