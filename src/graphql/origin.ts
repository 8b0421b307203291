/**
 * Which browser pages may call Herald, over HTTP and websocket alike: its own (same origin)
 * and the CORS_ORIGINS. A request with no `Origin` header does not come from a page's
 * script (curl, a server, a navigation) and is left to the token alone. Same origin is judged by host and port only,
 * because behind a TLS-terminating proxy Herald cannot see the scheme the browser used.
 */
export class OriginPolicy {
  private readonly listed: ReadonlySet<string>;

  constructor(corsOrigins: readonly string[]) {
    this.listed = new Set(corsOrigins);
  }

  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    return this.listed.has(origin) || isSameHost(origin, host);
  }

  /** A listed origin other than Herald's own: its requests get CORS headers. */
  isListed(origin: string | undefined): origin is string {
    return origin !== undefined && this.listed.has(origin);
  }
}

function isSameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // "null" (a sandboxed frame, a file:// page) or garbage
  }
}
