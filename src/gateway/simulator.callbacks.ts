/**
 * The HTTP simulator's posts to Herald: receipts to the receipts URL (batched into one JSON
 * array when several are due at once) and replies to the inbound URL, with the provider's
 * bearer token. Posting never holds up the answers to sends: receipts wait in a queue that a
 * few posts in flight drain, each retried a few times with backoff on no answer, a 5xx, a 408
 * or a 429. Other answers (401, 400, 404) are final: resending would change nothing.
 */
export type ReceiptBody = { id: string; status: string; error?: string; at: string };
export type ReplyBody = { from: string; text: string; at: string };

export type CallbackTargets = { receiptsUrl?: string; inboundUrl?: string; token?: string };

const MAX_BATCH = 100;
const MAX_IN_FLIGHT = 4;
const ATTEMPTS = 4;
const BACKOFF_MS = 250;
const POST_TIMEOUT_MS = 5_000;

export class CallbackPoster {
  private queue: ReceiptBody[] = [];
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** receipts posted and answered 2xx, answered otherwise for good, and given up on after every attempt */
  receiptsDelivered = 0;
  receiptsRefused = 0;
  receiptsFailed = 0;
  /** posts made (batches count once), retries included */
  posts = 0;
  /** the status of the last answer to a receipts post (0: none, or no answer) */
  lastStatus = 0;

  constructor(private targets: CallbackTargets) {}

  set(targets: CallbackTargets): void {
    this.targets = { ...this.targets, ...targets };
    this.schedule();
  }

  get receiptsUrl(): string | undefined {
    return this.targets.receiptsUrl;
  }

  /** receipts due and not yet answered */
  get pending(): number {
    return this.queue.length;
  }

  receipt(body: ReceiptBody): void {
    if (this.closed) return;
    this.queue.push(body);
    this.schedule();
  }

  /** Posts a reply at once and resolves with Herald's answer (status 0: no answer). */
  async reply(body: ReplyBody): Promise<{ status: number; body: string }> {
    if (!this.targets.inboundUrl) return { status: 0, body: 'no inbound URL is set' };
    return this.post(this.targets.inboundUrl, body);
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
  }

  // Due receipts are gathered until the current turn of the event loop ends, so receipts
  // that fall due together go out as one batch.
  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    const url = this.targets.receiptsUrl;
    if (!url) return; // kept until Herald says where it listens
    while (this.queue.length > 0 && this.inFlight < MAX_IN_FLIGHT && !this.closed) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.send(url, batch, 1).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async send(url: string, batch: ReceiptBody[], attempt: number): Promise<void> {
    const { status } = await this.post(url, batch.length === 1 ? batch[0] : batch);
    this.lastStatus = status;
    if (status >= 200 && status < 300) return void (this.receiptsDelivered += batch.length);
    const retryable = status === 0 || status >= 500 || status === 408 || status === 429;
    if (!retryable) return void (this.receiptsRefused += batch.length);
    if (attempt >= ATTEMPTS || this.closed) return void (this.receiptsFailed += batch.length);
    const wait = BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + Math.random());
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.retryTimers.delete(t);
        resolve();
      }, wait);
      this.retryTimers.add(t);
    });
    if (!this.closed) await this.send(url, batch, attempt + 1);
  }

  private async post(url: string, body: unknown): Promise<{ status: number; body: string }> {
    this.posts++;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.targets.token ? { authorization: `Bearer ${this.targets.token}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(POST_TIMEOUT_MS),
      });
      return { status: res.status, body: await res.text() };
    } catch {
      return { status: 0, body: '' };
    }
  }
}
