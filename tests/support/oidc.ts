import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

/** A client of the test provider: what its tokens say (the role claim, the audience, how long they live). */
export type TestClient = { id: string; roles?: string | string[]; ttlS?: number };

const SECRET = 'client-secret-for-tests-0123456789abcdef';
export const ROLE_CLAIM = 'https://herald.example/roles';
export const AUDIENCE = 'https://herald.test/api';

export async function signingKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

/**
 * A real OIDC provider (npm oidc-provider) on loopback, issuing JWT access tokens by the
 * client credentials grant for a resource (RFC 8707): discovery document, JWKS and token
 * endpoint as an identity provider serves them. `rotate` swaps in a provider with a new
 * signing key (the old one still published), as an issuer rotates its keys.
 */
export async function startTestProvider(clients: TestClient[], opts: { keys?: JWK[] } = {}) {
  let keys = opts.keys ?? [await signingKey('key-1')];
  let provider: Provider | undefined;
  let handler: ReturnType<Provider['callback']> | undefined;
  const server: Server = createServer((req, res) => handler!(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const build = () => {
    const byId = new Map(clients.map((c) => [c.id, c]));
    provider = new Provider(issuer, {
      clients: clients.map((c) => ({
        client_id: c.id,
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: 'api',
      })),
      jwks: { keys },
      scopes: ['openid', 'api'],
      cookies: { keys: ['cookie-key-for-tests-0123456789'] },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => AUDIENCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resource, client) => ({
            scope: 'api',
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: byId.get(client.clientId)?.ttlS ?? 300,
            jwt: { sign: { alg: 'RS256' } },
          }),
        },
      },
      extraTokenClaims: (_ctx, token) => {
        const client = byId.get((token as { clientId?: string }).clientId ?? '');
        return client?.roles === undefined ? undefined : { [ROLE_CLAIM]: client.roles };
      },
    });
    handler = provider.callback();
  };
  build();

  return {
    issuer,
    /** A JWT access token for the client, for `resource` (default: Herald's audience). */
    async token(clientId: string, resource = AUDIENCE): Promise<string> {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api', resource }),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!res.ok || !body.access_token) throw new Error(`the provider issued no token (${res.status}): ${JSON.stringify(body)}`);
      return body.access_token;
    },
    /** Signs with `key` from now on, still publishing the keys before it. */
    rotate(key: JWK): void {
      keys = [key, ...keys];
      build();
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type TestProvider = Awaited<ReturnType<typeof startTestProvider>>;
