import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Role } from '../config';

/**
 * Who asks. `id` names the token without being it (`api-token:2`, `oidc:<digest of iss and
 * sub>`): rate limits and connection counts are kept per id, and no id reveals a secret.
 * `expiresAt` (ms since the epoch) is the end of a JWT's validity, when a websocket that
 * it opened is closed.
 */
export type Principal = { id: string; role: Role; expiresAt?: number };

/** The token of an `Authorization` header value (`Bearer <token>`), if it has that form. */
export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

/**
 * API_TOKENS and the role each grants. Tokens are kept only as SHA-256 digests, and a token
 * is compared with every one of them in constant time (timingSafeEqual over digests of equal
 * length, never an early exit), so neither a map lookup nor a string comparison tells by its
 * timing how much of a guess was right; no plain token lingers in memory for a log line.
 */
export class TokenRegistry {
  private readonly entries: { digest: Buffer; principal: Principal }[];

  constructor(tokens: { role: Role; token: string }[]) {
    this.entries = tokens.map(({ role, token }, i) => ({ digest: digest(token), principal: { id: `api-token:${i + 1}`, role } }));
  }

  /** The principal a token grants, if it is one of API_TOKENS. */
  lookup(token: string): Principal | undefined {
    const presented = digest(token);
    let found: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, presented)) found ??= entry.principal;
    }
    return found;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Outside production, a Herald started without API_TOKENS makes one admin token on first
 * start and keeps it in `<dataDir>/admin-token` (mode 0600), so a newcomer can use the API
 * at once. Returns the token and the file's path.
 */
export async function ensureDevAdminToken(dataDir: string): Promise<{ token: string; file: string }> {
  const file = path.resolve(dataDir, 'admin-token');
  if (existsSync(file)) {
    const token = (await readFile(file, 'utf8')).trim();
    if (token.length >= 16) return { token, file };
  }
  await mkdir(path.dirname(file), { recursive: true });
  const token = randomBytes(24).toString('base64url');
  try {
    // 'wx': of two processes starting at once, one writes and both use its token.
    await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' });
    return { token, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { token: (await readFile(file, 'utf8')).trim(), file };
  }
}
