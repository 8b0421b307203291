import { UnauthenticatedError } from '../common/errors';
import type { OidcVerifier } from './oidc';
import { bearerToken, type Principal, type TokenRegistry } from './tokens';

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/**
 * Who an `Authorization` value names: one of API_TOKENS, else (when OIDC_ISSUER is set) a
 * JWT from the identity provider. Throws UNAUTHENTICATED, or FORBIDDEN for a verified JWT
 * that grants no role.
 */
export class Authenticator {
  constructor(
    private readonly tokens: TokenRegistry,
    private readonly oidc: OidcVerifier | null,
  ) {}

  async authenticate(authorization: unknown): Promise<Principal> {
    const token = bearerToken(authorization);
    if (token === undefined) throw new UnauthenticatedError();
    const principal = this.tokens.lookup(token);
    if (principal) return principal;
    if (this.oidc && JWT_SHAPE.test(token)) return this.oidc.verify(token);
    throw new UnauthenticatedError();
  }
}
