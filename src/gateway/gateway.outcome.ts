import type { SendOutcome } from '../dispatch/dispatch.ports';

/**
 * What one request to the gateway came to (the engine's SendOutcome, dispatch.ports.ts).
 * Every answer (or non-answer) of the HTTP gateway maps to exactly one, here and nowhere else:
 * - sent: 200 with JSON `code: 0`;
 * - rejected: the message itself is bad (400 and other 4xx); retrying will not help;
 * - unauthorized: 401/403, the gateway refuses Herald itself; stop everywhere until it works;
 * - throttled: 429, wait as long as Retry-After says;
 * - retryable: 5xx, 408, timeouts, refused or dropped connections, bodies that are not the
 *   documented JSON, or JSON with a non-zero code. A 200 whose body cannot be read is
 *   ambiguous (the gateway may have accepted it), as is a timeout or a connection lost
 *   after the request went out (gateway.client.ts).
 */
export function classifyResponse(status: number, body: string, retryAfter: string | undefined, now = Date.now()): SendOutcome {
  if (status === 200) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { kind: 'retryable', error: `200 with a body that is not JSON: ${snippet(body)}`, ambiguous: true };
    }
    if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { code?: unknown }).code !== 'number') {
      return { kind: 'retryable', error: `200 without a numeric code: ${snippet(body)}`, ambiguous: true };
    }
    const code = (parsed as { code: number }).code;
    return code === 0 ? { kind: 'sent' } : { kind: 'retryable', error: `200 with code ${code}` };
  }
  if (status === 401 || status === 403) return { kind: 'unauthorized', error: `${status}: the gateway refused Herald's token` };
  if (status === 429) {
    return { kind: 'throttled', error: '429: too many requests', retryAfterMs: parseRetryAfter(retryAfter, now) };
  }
  if (status === 408) return { kind: 'retryable', error: '408: request timeout' };
  if (status >= 400 && status < 500) return { kind: 'rejected', error: `${status}: ${snippet(body)}` };
  return { kind: 'retryable', error: `${status}: ${snippet(body)}` };
}

/** Retry-After is either delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat || '(empty body)';
}
