import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { ROLES, type Role } from '../config';
import { ForbiddenError, UnauthenticatedError } from '../common/errors';
import type { Principal } from './tokens';

export type OidcOptions = {
  issuer: string;
  audience: string;
  /** `roles`, a dotted path (`realm_access.roles`) or a namespaced name (`https://herald.example/role`) */
  roleClaim: string;
  clockSkewS: number;
  /** the least time between two fetches of the JWKS for an unknown `kid` */
  jwksCooldownMs: number;
};

// Only asymmetric signatures: a key from a JWKS is public, and an HS256 token "signed" with
// it would be forged by anyone who read it.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const FETCH_TIMEOUT_MS = 5_000;

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/**
 * JWT bearer tokens from an OIDC issuer. The keys come from the issuer's discovery document
 * (`/.well-known/openid-configuration`, read once, again after a failure) and its JWKS, which
 * jose caches and fetches again when a token names a `kid` it does not hold, at most once per
 * cooldown: a key rotation at the issuer is picked up without a restart, and a flood of
 * made-up `kid`s costs the issuer one request per cooldown. Signature, `iss`, `aud`, `exp`
 * and `nbf` are checked, with OIDC_CLOCK_SKEW_S of tolerance; the role comes from
 * OIDC_ROLE_CLAIM. Neither a token nor a claim goes into an error message.
 */
export class OidcVerifier {
  private keys: Promise<KeySet> | undefined;

  constructor(private readonly opts: OidcOptions) {}

  /** The principal the token grants; UNAUTHENTICATED if it does not verify, FORBIDDEN if it grants no role. */
  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keySet(), {
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        clockTolerance: this.opts.clockSkewS,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if (error instanceof DiscoveryError || error instanceof errors.JWKSTimeout || error instanceof TypeError) throw new IssuerUnreachableError();
      throw new UnauthenticatedError(reasonOf(error));
    }
    const role = roleOf(claimAt(payload, this.opts.roleClaim));
    if (!role) throw new ForbiddenError(`the token grants no role: its ${this.opts.roleClaim} claim holds neither admin nor viewer`);
    const subject = payload.sub ?? String(payload.azp ?? payload.client_id ?? '');
    return {
      // A digest: the id is used for rate limits and connection counts, and must carry no claim.
      id: `oidc:${createHash('sha256').update(`${payload.iss}\n${subject}`).digest('base64url').slice(0, 16)}`,
      role,
      // Until the moment this token stops being accepted over HTTP too.
      expiresAt: (payload.exp! + this.opts.clockSkewS) * 1000,
    };
  }

  private keySet(): Promise<KeySet> {
    this.keys ??= this.discover().catch((error) => {
      this.keys = undefined; // the next token tries again
      throw error;
    });
    return this.keys;
  }

  private async discover(): Promise<KeySet> {
    const url = `${this.opts.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!res.ok) throw new DiscoveryError(`the issuer's discovery document answered ${res.status}`);
    const document = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OIDC Discovery §4.3: the document must name the issuer it was fetched for.
    if (document.issuer !== this.opts.issuer) throw new DiscoveryError('the discovery document names another issuer');
    if (typeof document.jwks_uri !== 'string') throw new DiscoveryError('the discovery document has no jwks_uri');
    return createRemoteJWKSet(new URL(document.jwks_uri), {
      cooldownDuration: this.opts.jwksCooldownMs,
      timeoutDuration: FETCH_TIMEOUT_MS,
    });
  }
}

class DiscoveryError extends Error {}

/**
 * The token could not be checked: the issuer's documents could not be read. Still
 * UNAUTHENTICATED for the client, but no fault of the address that sent it (gate.ts does not
 * count it against the address's failed attempts).
 */
export class IssuerUnreachableError extends UnauthenticatedError {
  constructor() {
    super('the identity provider could not be reached to verify the token; try again shortly');
  }
}

/** What the client is told: the kind of failure, never the token's contents. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's "${error.claim}" claim is not accepted here`;
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token is signed with a key the issuer does not publish';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token\'s signature does not verify';
  return 'the token is not a valid JWT from the configured issuer';
}

/**
 * The claim of that name: a top-level one first (namespaced names such as
 * `https://herald.example/roles` hold dots), else the dotted path (`realm_access.roles`).
 */
export function claimAt(payload: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** admin if the claim holds it (a string, space-separated names, or an array), else viewer if it holds that. */
export function roleOf(claim: unknown): Role | undefined {
  const names = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim.filter((v): v is string => typeof v === 'string') : [];
  return ROLES.find((role) => names.includes(role));
}
