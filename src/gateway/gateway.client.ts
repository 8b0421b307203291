import { Pool, errors } from 'undici';
import { classifyResponse, type SendOutcome } from './gateway.outcome';

export type OutgoingMessage = { id: number; phone: string; text: string };

/** The one thing Herald needs from an SMS gateway. */
export interface Gateway {
  send(message: OutgoingMessage, deadline: number): Promise<SendOutcome>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
/** how close to its deadline a request gets a precise abort signal (undici's timers are coarse) */
const NEAR_DEADLINE_MS = 2_000;

/**
 * The probe gateway over one undici pool: bounded connections, and a deadline on every
 * request (the earlier of the request timeout and the caller's deadline, which is the
 * mailing's end). The token goes into the Authorization header and nowhere else.
 */
export class HttpGateway implements Gateway {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly options: { url: string; token: string; connections: number; requestTimeoutMs: number }) {
    const url = new URL(options.url);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
    });
  }

  async send(message: OutgoingMessage, deadline: number): Promise<SendOutcome> {
    const now = Date.now();
    const budget = Math.min(this.options.requestTimeoutMs, deadline - now);
    if (budget <= 0) return { kind: 'retryable', error: 'no time left before the deadline' };
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: `${this.basePath}/send/${message.id}`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
        body: JSON.stringify({ id: message.id, phone: Number(message.phone), text: message.text }),
        // undici's own timers keep the request timeout cheaply but only to within a second;
        // near a mailing's end, where the deadline must hold to the millisecond, an abort
        // signal (a timer and listeners per request, too costly for every one) keeps it.
        headersTimeout: budget,
        bodyTimeout: budget,
        signal: deadline - now < this.options.requestTimeoutMs + NEAR_DEADLINE_MS ? AbortSignal.timeout(budget) : undefined,
      });
      const body = await readLimited(res.body, res.headers['content-length']);
      const retryAfter = res.headers['retry-after'];
      return classifyResponse(res.statusCode, body, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    } catch (error) {
      return { kind: 'retryable', error: describeFailure(error, budget) };
    }
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

type Body = AsyncIterable<Buffer> & { text: () => Promise<string>; destroy?: () => void };

async function readLimited(body: Body, contentLength: string | string[] | undefined): Promise<string> {
  // The usual answer is a small body of known length, read in one go.
  if (typeof contentLength === 'string' && Number(contentLength) <= MAX_BODY_BYTES) return body.text();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy?.();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeFailure(error: unknown, budgetMs: number): string {
  const e = error as { name?: string; code?: string; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
    return `no answer within ${Math.round(budgetMs)} ms`;
  }
  if (e.code) return `connection failed: ${e.code}`;
  return `request failed: ${e.message ?? String(error)}`;
}
