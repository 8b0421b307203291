import { Pool, errors } from 'undici';
import { classifyResponse, type SendOutcome } from './gateway.outcome';

export type OutgoingMessage = { id: number; phone: string; text: string };

/** The one thing Herald needs from an SMS gateway. */
export interface Gateway {
  send(message: OutgoingMessage, deadline: number): Promise<SendOutcome>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

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
    const budget = Math.min(this.options.requestTimeoutMs, deadline - Date.now());
    if (budget <= 0) return { kind: 'retryable', error: 'no time left before the deadline' };
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: `${this.basePath}/send/${message.id}`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
        body: JSON.stringify({ id: message.id, phone: Number(message.phone), text: message.text }),
        signal: AbortSignal.timeout(budget),
      });
      const body = await readLimited(res.body);
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

async function readLimited(body: AsyncIterable<Buffer> & { destroy?: () => void }): Promise<string> {
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
