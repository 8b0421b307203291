import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Role } from '../config';

export type Principal = { role: Role };

/**
 * Bearer tokens and the role each grants. Tokens are kept only as SHA-256 digests, so the
 * lookup takes the same path for any token and no plain token lingers in memory for a
 * stray log line to print.
 */
export class TokenRegistry {
  private readonly roles = new Map<string, Role>();

  constructor(tokens: { role: Role; token: string }[]) {
    for (const { role, token } of tokens) this.roles.set(digest(token), role);
  }

  /** The principal for an `Authorization` header value (`Bearer <token>`), if any. */
  authenticate(authorization: unknown): Principal | undefined {
    if (typeof authorization !== 'string') return undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return undefined;
    const role = this.roles.get(digest(match[1]));
    return role ? { role } : undefined;
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
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
