import { Pool, errors, type Dispatcher } from 'undici';
import type { OutgoingMessage, Sender, Sending, SendOutcome } from '../dispatch/dispatch.ports';
import { classifyResponse } from './gateway.outcome';

const MAX_BODY_BYTES = 64 * 1024;
/** how close to its deadline a request gets a precise timer (undici's own timers are coarse) */
const NEAR_DEADLINE_MS = 2_000;

/**
 * The probe gateway over one undici pool: bounded connections, and a deadline on every
 * request (the earlier of the request timeout and the caller's deadline, which is never
 * after the mailing's end). The token goes into the Authorization header and nowhere else.
 * Requests go through undici's dispatch API with a small handler of our own: no response
 * stream objects per message, and a signal when the request has been written, which the
 * dispatcher waits for before it commits a claim.
 */
export class HttpGateway implements Sender {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly authorization: string;

  constructor(
    private readonly options: {
      url: string;
      token: string;
      connections: number;
      requestTimeoutMs: number;
      /** called as each request starts; the function it returns, with the request's result class (metrics) */
      observe?: () => (result: SendOutcome['kind']) => void;
    },
  ) {
    const url = new URL(options.url);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.authorization = `Bearer ${options.token}`;
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
      connectTimeout: options.requestTimeoutMs,
    });
  }

  send(message: OutgoingMessage, deadline: number): Sending {
    const now = Date.now();
    const budget = Math.min(this.options.requestTimeoutMs, deadline - now);
    if (budget <= 0) {
      return { written: Promise.resolve(), outcome: Promise.resolve({ kind: 'retryable', error: 'no time left before the deadline' }) };
    }
    const handler = new ResponseHandler(budget, deadline - now < this.options.requestTimeoutMs + NEAR_DEADLINE_MS, this.options.observe?.());
    this.pool.dispatch(
      {
        method: 'POST',
        path: `${this.basePath}/send/${message.id}`,
        headers: { 'content-type': 'application/json', authorization: this.authorization },
        body: JSON.stringify({ id: message.id, phone: Number(message.phone), text: message.text }),
        headersTimeout: budget,
        bodyTimeout: budget,
      },
      handler,
    );
    // The gateway knows the message by the id it was sent under (its path and body): that is
    // the id its receipts name, so it is recorded as the provider's id and receipts match on
    // (provider, provider_message_id) alone, as SMPP's do.
    const outcome = handler.outcome.then((o): SendOutcome => (o.kind === 'sent' ? { ...o, providerMessageId: o.providerMessageId ?? String(message.id) } : o));
    return { written: handler.written, outcome };
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/**
 * Collects one answer (status, Retry-After, a bounded body) and classifies it. Written for
 * undici's dispatch handler interface (the callbacks it has always called; the newer
 * controller-style ones do not report when a request has been written).
 */
class ResponseHandler implements Dispatcher.DispatchHandler {
  readonly written: Promise<void>;
  readonly outcome: Promise<SendOutcome>;
  private markWritten!: () => void;
  private settle!: (outcome: SendOutcome) => void;
  private status = 0;
  private retryAfter: string | undefined;
  private chunks: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private abort: ((err?: Error) => void) | undefined;
  private overdue = false;
  /** whether the whole request went out: a failure after that may have been delivered */
  private sent = false;

  constructor(
    private readonly budgetMs: number,
    /** near a mailing's end the deadline must hold to the millisecond: a timer of its own */
    precise: boolean,
    /** told the outcome's class once it is known (metrics); once, as settling is */
    private observed?: (result: SendOutcome['kind']) => void,
  ) {
    this.written = new Promise((resolve) => (this.markWritten = resolve));
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    if (precise) {
      this.timer = setTimeout(() => {
        this.overdue = true;
        this.abort?.(new errors.HeadersTimeoutError());
      }, budgetMs);
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    if (this.overdue) abort(new errors.HeadersTimeoutError());
  }

  onRequestSent(): void {
    this.sent = true;
    this.markWritten();
  }

  onHeaders(statusCode: number, headers: Buffer[] | string[] | null): boolean {
    this.status = statusCode;
    if (statusCode === 429 && headers) {
      for (let i = 0; i < headers.length; i += 2) {
        if (headers[i].toString().toLowerCase() === 'retry-after') this.retryAfter = headers[i + 1].toString();
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.size < MAX_BODY_BYTES) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    return true;
  }

  onComplete(): void {
    clearTimeout(this.timer);
    this.markWritten();
    const body = this.chunks.length === 1 ? this.chunks[0].toString('utf8') : Buffer.concat(this.chunks).toString('utf8');
    const outcome = classifyResponse(this.status, body.length > MAX_BODY_BYTES ? body.slice(0, MAX_BODY_BYTES) : body, this.retryAfter);
    this.observe(outcome.kind);
    this.settle(outcome);
  }

  onError(error: Error): void {
    clearTimeout(this.timer);
    this.markWritten();
    this.observe('retryable');
    // Refused or cut before the request was out: not delivered, any provider may take it.
    // After: the gateway may have accepted it, so only this provider may try it again.
    const failure = describeFailure(error, this.budgetMs);
    this.settle(this.sent ? { kind: 'retryable', error: `${failure} (it may have been delivered)`, ambiguous: true } : { kind: 'retryable', error: failure });
  }

  private observe(kind: SendOutcome['kind']): void {
    this.observed?.(kind);
    this.observed = undefined;
  }
}

function describeFailure(error: unknown, budgetMs: number): string {
  const e = error as { name?: string; code?: string; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
    return `no answer within ${Math.round(budgetMs)} ms`;
  }
  if (error instanceof errors.ConnectTimeoutError) return `no connection within ${Math.round(budgetMs)} ms`;
  if (e.code) return `connection failed: ${e.code}`;
  return `request failed: ${e.message ?? String(error)}`;
}
