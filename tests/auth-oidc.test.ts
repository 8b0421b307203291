import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { startTestHerald, wsOperation, onlyError, type TestHerald } from './support/herald';
import { subscribe } from './support/live';
import { AUDIENCE, ROLE_CLAIM, signingKey, startTestProvider, type TestProvider } from './support/oidc';
import { freePort } from './support/ports';
import { sleep } from './support/wait';

// Tokens from a real OIDC provider (npm oidc-provider, in this process on loopback), by the
// client credentials grant: JWT access tokens for Herald's audience, with the role in a
// namespaced claim (a name with dots in it), as an array or a plain string.
const CLIENTS = [
  { id: 'admin-app', roles: ['admin', 'auditor'] },
  { id: 'viewer-app', roles: 'viewer' },
  { id: 'norole-app' },
  { id: 'short-lived-app', roles: ['viewer'], ttlS: 1 },
  { id: 'two-second-app', roles: ['viewer'], ttlS: 2 },
];

const ME = '{ me { role } }';
const WRITE = 'mutation { createClient(input: { phone: "79000000777", timezone: "UTC" }) { phone } }';

let provider: TestProvider;
let elsewhere: TestProvider;
let herald: TestHerald;
const issued: string[] = [];

async function token(clientId: string, resource?: string, from: TestProvider = provider): Promise<string> {
  const t = await from.token(clientId, resource);
  issued.push(t);
  return t;
}

beforeAll(async () => {
  const key = await signingKey('key-1');
  provider = await startTestProvider(CLIENTS, { keys: [key] });
  // Another issuer with the very same key: its tokens verify, but are not from Herald's issuer.
  elsewhere = await startTestProvider(CLIENTS, { keys: [key] });
  herald = await startTestHerald({
    logLevel: 'trace',
    oidc: { issuer: provider.issuer, audience: AUDIENCE, roleClaim: ROLE_CLAIM, clockSkewS: 0, jwksCooldownMs: 100 },
  });
});
afterAll(async () => {
  await herald?.stop();
  await provider?.stop();
  await elsewhere?.stop();
});

describe('JWT access tokens from an OIDC issuer', () => {
  it('should let a token whose role claim holds admin (in an array) query and mutate', async () => {
    const admin = await token('admin-app');
    expect(await herald.ok(ME, {}, { token: admin })).toEqual({ me: { role: 'ADMIN' } });
    expect(await herald.ok(WRITE, {}, { token: admin })).toEqual({ createClient: { phone: '79000000777' } });
  });

  it('should let a token whose role claim is the string viewer query, and refuse its mutations with FORBIDDEN', async () => {
    const viewer = await token('viewer-app');
    expect(await herald.ok(ME, {}, { token: viewer })).toEqual({ me: { role: 'VIEWER' } });
    const write = await herald.gql(WRITE.replace('777', '778'), {}, { token: viewer });
    expect(write.status).toBe(403);
    expect(onlyError(write).extensions).toEqual({ code: 'FORBIDDEN' });
    expect(await herald.sql`select 1 from clients where phone = '79000000778'`).toHaveLength(0);
  });

  it('should refuse a verified token that grants no role with FORBIDDEN, over HTTP and websocket', async () => {
    const none = await token('norole-app');
    const res = await herald.gql(ME, {}, { token: none });
    expect(res.status).toBe(403);
    expect(onlyError(res).extensions).toEqual({ code: 'FORBIDDEN' });
    expect(onlyError(res).message).toContain('grants no role');
    expect(await wsOperation(herald.url, ME, { token: none })).toEqual({ results: [], closeCode: 4403 });
  });

  it('should refuse an expired token with UNAUTHENTICATED', async () => {
    const shortLived = await token('short-lived-app');
    expect(await herald.ok(ME, {}, { token: shortLived })).toEqual({ me: { role: 'VIEWER' } });
    await sleep(2_100); // exp is in whole seconds: at most 2 s after it was issued
    const res = await herald.gql(ME, {}, { token: shortLived });
    expect(res.status).toBe(401);
    expect(onlyError(res)).toEqual({ message: 'the token has expired', extensions: { code: 'UNAUTHENTICATED' } });
    expect(await wsOperation(herald.url, ME, { token: shortLived })).toEqual({ results: [], closeCode: 4401 });
  });

  it('should refuse a token for another audience with UNAUTHENTICATED', async () => {
    const res = await herald.gql(ME, {}, { token: await token('admin-app', 'https://other.test/api') });
    expect(res.status).toBe(401);
    expect(onlyError(res)).toEqual({ message: 'the token\'s "aud" claim is not accepted here', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('should refuse a token from another issuer, even one signed with the same key, with UNAUTHENTICATED', async () => {
    const res = await herald.gql(ME, {}, { token: await token('admin-app', undefined, elsewhere) });
    expect(res.status).toBe(401);
    expect(onlyError(res)).toEqual({ message: 'the token\'s "iss" claim is not accepted here', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('should refuse a token whose signature was tampered with', async () => {
    const [header, payload, signature] = (await token('admin-app')).split('.');
    const forged = [header, payload, signature.slice(0, -4) + (signature.endsWith('AAAA') ? 'BBBB' : 'AAAA')].join('.');
    const res = await herald.gql(ME, {}, { token: forged });
    expect(res.status).toBe(401);
    expect(onlyError(res).extensions).toEqual({ code: 'UNAUTHENTICATED' });
  });

  it('should accept tokens signed with a new key after the issuer rotates, without a restart', async () => {
    const before = await token('admin-app');
    provider.rotate(await signingKey('key-2'));
    const after = await token('admin-app');
    expect(JSON.parse(Buffer.from(after.split('.')[0], 'base64url').toString()).kid).toBe('key-2');
    await sleep(150); // past OIDC_JWKS_COOLDOWN_MS since Herald last fetched the keys
    expect(await herald.ok(ME, {}, { token: after })).toEqual({ me: { role: 'ADMIN' } });
    // The old key is still published, and its tokens still good until they expire.
    expect(await herald.ok(ME, {}, { token: before })).toEqual({ me: { role: 'ADMIN' } });
  });

  it('should close a websocket with 4403 when its token expires, ending its subscription', async () => {
    const twoSeconds = await token('two-second-app');
    const issuedAt = Date.now();
    const sub = subscribe(herald.url, 'subscription { statisticsChanged { mailingCount } }', {}, twoSeconds);
    try {
      await sub.finished;
      const elapsed = Date.now() - issuedAt;
      expect(sub.errors).toEqual([expect.objectContaining({ code: 4403, reason: 'Token expired' })]);
      // exp is whole seconds after issue: 1–2 s later, and then at once.
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(3_000);
      expect(sub.events.length).toBeGreaterThanOrEqual(1); // the snapshot came while it was valid
    } finally {
      await sub.stop();
    }
  });
});

describe('an issuer that cannot be reached', () => {
  it('should answer UNAUTHENTICATED at once, saying so, without counting it against the address', async () => {
    const port = await freePort(); // nothing listens there
    const orphan = await startTestHerald({
      limits: { ...loadConfig({}).limits, authFailuresPerMinute: 2 },
      oidc: { issuer: `http://127.0.0.1:${port}`, audience: AUDIENCE, roleClaim: ROLE_CLAIM, clockSkewS: 0, jwksCooldownMs: 100 },
    });
    try {
      const jwt = await token('admin-app');
      for (let i = 0; i < 3; i++) {
        const res = await orphan.gql(ME, {}, { token: jwt });
        expect(res.status).toBe(401);
        expect(onlyError(res)).toEqual({ message: expect.stringMatching(/identity provider could not be reached/), extensions: { code: 'UNAUTHENTICATED' } });
      }
      // The static tokens work meanwhile.
      expect(await orphan.ok(ME)).toEqual({ me: { role: 'ADMIN' } });
    } finally {
      await orphan.stop();
    }
  });
});

describe('logs', () => {
  it('should carry no token and no claim of any token above', () => {
    expect(issued.length).toBeGreaterThanOrEqual(10);
    for (const t of issued) expect(herald.rawLog.filter((line) => line.includes(t.split('.')[1]))).toEqual([]);
    // sub and client_id of every token, and the role claim's name
    for (const claim of [...CLIENTS.map((c) => c.id), ROLE_CLAIM]) expect(herald.rawLog.filter((line) => line.includes(claim))).toEqual([]);
  });
});
