import { createHash, timingSafeEqual } from 'node:crypto';
import { bearerToken } from '../auth/tokens';
import type { ProvidersConfig } from './providers.file';

/**
 * Who may post to /providers/<name>/receipts and /providers/<name>/inbound: the provider
 * `name`, presenting its `receiptToken` (the providers file's key; for the default provider
 * SENDER_RECEIPT_TOKEN, or the built-in simulator's own) as a bearer token. One owner for
 * both routes. Tokens are compared as SHA-256 digests in constant time, as API tokens are.
 */
export type CallbackVerdict =
  | { ok: true; provider: string }
  /** 404: no provider of that name (or it takes no posts: it has no receiptToken) */
  | { ok: false; status: 404; reason: string }
  /** 401: no token, or not this provider's */
  | { ok: false; status: 401; reason: string };

export class ProviderCallbackGuard {
  private readonly digests = new Map<string, Buffer>();

  constructor(providers: Pick<ProvidersConfig, 'providers'>) {
    for (const p of providers.providers) {
      const token = 'receiptToken' in p ? p.receiptToken : undefined;
      if (token) this.digests.set(p.name, digest(token));
    }
  }

  /** Whether a provider of this name takes posts (for the 404 before the token is looked at). */
  accepts(name: string): boolean {
    return this.digests.has(name);
  }

  check(name: string, authorization: unknown): CallbackVerdict {
    const expected = this.digests.get(name);
    if (!expected) return { ok: false, status: 404, reason: `no provider "${name}" takes receipts or replies (it needs a receiptToken)` };
    const token = bearerToken(authorization);
    if (token === undefined || !timingSafeEqual(expected, digest(token))) return { ok: false, status: 401, reason: 'a bearer token of this provider is required' };
    return { ok: true, provider: name };
  }
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();
