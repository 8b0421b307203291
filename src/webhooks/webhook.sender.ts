import { lookup as dnsLookup, type LookupAddress, type LookupOneOptions } from 'node:dns';
import { Pool } from 'undici';
import type { Db } from '../db/connection';
import { logRepeated, type Logger } from '../logger';
import { isPrivateAddress } from './webhook.address';
import { eventIdOf, payloadOf, signedHeaders } from './webhook.payload';
import * as store from './webhook.store';

export type SenderOptions = {
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  retryForMs: number;
  pollMs: number;
  window: number;
  batchSize: number;
  retentionDays: number;
  /** false in production without WEBHOOK_ALLOW_PRIVATE: connections to such addresses are refused too (DNS rebinding) */
  allowPrivate: boolean;
};

/** Exponential backoff with full jitter: a random wait up to min(cap, base * 2^(attempt-1)). */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 40));
}

/** The head of a disabled webhook's reason: "deliveries failed for 24 h". */
function failedFor(ms: number): string {
  const span = ms >= 3_600_000 ? `${+(ms / 3_600_000).toFixed(1)} h` : ms >= 60_000 ? `${+(ms / 60_000).toFixed(1)} min` : `${+(ms / 1000).toFixed(1)} s`;
  return `deliveries failed for ${span}`;
}

/**
 * Sends the outbox's deliveries (worker processes). One loop per enabled webhook, each with
 * its own connection pool and a window of requests in flight, so a slow or failing webhook
 * holds only its own loop: never another webhook's, never dispatch (its own database pool).
 * A round claims the webhook's oldest due PENDING deliveries in event order and leases them
 * (the lease at the head of the line also holds off every other worker), sends them, and
 * writes the outcomes. Killed in between, nothing is written: the leased deliveries are
 * due again when the lease ends, and sent again (at least once).
 */
export class WebhookSender {
  private readonly loops = new Map<number, WebhookLoop>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastRetention = 0;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly opts: SenderOptions,
  ) {}

  start(): void {
    void this.refresh();
  }

  /** Starts a loop per enabled webhook, stops those of webhooks gone, disabled or changed. */
  private async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      // A webhook failing this long is disabled even when a round will not come again.
      for (const id of await store.disableLongFailing(this.db, this.opts.retryForMs, failedFor(this.opts.retryForMs))) {
        this.log.warn({ webhookId: id }, 'webhook disabled: its deliveries failed for the whole retry period');
      }
      const rows = await store.enabledWebhooks(this.db);
      const wanted = new Map(rows.map((r) => [r.id, r]));
      for (const [id, loop] of this.loops) {
        const row = wanted.get(id);
        if (!row || row.url !== loop.url || row.secret !== loop.secret) {
          this.loops.delete(id);
          void loop.stop();
        }
      }
      for (const row of rows) {
        if (this.loops.has(row.id)) continue;
        const loop = new WebhookLoop(this.db, this.log, this.opts, row.id, row.url, row.secret, () => {
          if (this.loops.get(row.id) === loop) this.loops.delete(row.id);
        });
        this.loops.set(row.id, loop);
        loop.start();
      }
      if (Date.now() - this.lastRetention > 60_000) {
        this.lastRetention = Date.now();
        let gone = 0;
        for (let n = -1; n !== 0; gone += n) n = await store.deleteOldEvents(this.db, this.opts.retentionDays, 10_000);
        if (gone > 0) this.log.info({ events: gone }, 'old webhook events deleted');
      }
    } catch (err) {
      // A line per interval, not per look: the database may be away for a while (logger.ts).
      logRepeated(this.log, 'warn', { err }, 'webhooks could not be read; trying again');
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.refresh(), Math.max(this.opts.pollMs * 5, 250));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([...this.loops.values()].map((l) => l.stop()));
    this.loops.clear();
  }
}

const ROUND_MS = 5_000;

class WebhookLoop {
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly pool: Pool;
  private readonly target: URL;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly opts: SenderOptions,
    readonly id: number,
    readonly url: string,
    readonly secret: string,
    private readonly onDisabled: () => void,
  ) {
    this.target = new URL(url);
    const lookup = opts.allowPrivate ? undefined : publicOnlyLookup;
    this.pool = new Pool(this.target.origin, {
      connections: opts.window,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { timeout: opts.timeoutMs, ...(lookup ? { lookup } : {}) },
    });
  }

  start(): void {
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    await this.pool.close().catch(() => {});
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let sent = 0;
      try {
        sent = await this.round();
      } catch (err) {
        logRepeated(this.log, 'warn', { err, webhookId: this.id }, 'webhook round failed; trying again', `webhook round failed ${this.id}`);
      }
      if (this.stopped) break;
      if (sent === 0) await new Promise<void>((resolve) => ((this.wake = resolve), setTimeout(resolve, this.opts.pollMs)));
    }
  }

  /**
   * One round; returns how many deliveries it attempted. Three steps, no transaction held
   * while requests are out: claim (a short transaction: the webhook's advisory lock, its
   * oldest due deliveries, leased), send, write the outcomes.
   */
  private async round(): Promise<number> {
    const leaseMs = ROUND_MS + this.opts.timeoutMs + 5_000;
    const due = await this.db.transaction(async (tx) => {
      if (!(await store.lockWebhook(tx, this.id))) return [];
      const pending = await store.pendingDeliveries(tx, this.id, this.opts.batchSize);
      // Head of line: a webhook's events go in the order they happened, so nothing passes
      // an event waiting for its retry (or leased to a round under way, here or elsewhere).
      const claimed: store.Claimed[] = [];
      for (const p of pending) {
        if (!p.due) break;
        claimed.push(p);
      }
      await store.leaseDeliveries(tx, this.id, claimed.map((c) => c.eventId), leaseMs);
      return claimed;
    });
    if (due.length === 0) return 0;
    const outcomes: store.Outcome[] = [];
    let failed: string | null = null;
    let next = 0;
    // The lease must outlast the round: no request starts after ROUND_MS; the rest is due
    // again at once, for the next round.
    const until = Date.now() + ROUND_MS;
    // A window of requests in flight, started in event order; after a failure no later
    // one starts (those in flight finish), so the failed event keeps its place.
    const worker = async () => {
      while (failed === null && next < due.length && !this.stopped && Date.now() < until) {
        const d = due[next++];
        const error = await this.post(d);
        if (error === null) outcomes.push({ eventId: d.eventId, status: 'DELIVERED', error: null, retryInMs: 0 });
        else {
          failed ??= error;
          const giveUp = d.ageMs >= this.opts.retryForMs;
          outcomes.push({
            eventId: d.eventId,
            status: giveUp ? 'FAILED' : 'PENDING',
            error,
            retryInMs: retryDelayMs(d.attempts + 1, this.opts.retryBaseMs, this.opts.retryMaxMs),
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.window, due.length) }, worker));
    const unattempted = due.slice(next).map((d) => d.eventId);
    const reason = `${failedFor(this.opts.retryForMs)} (last: ${failed})`;
    const disabled = await this.db.transaction(async (tx) => {
      await store.recordOutcomes(tx, this.id, outcomes, unattempted);
      return store.recordHealth(tx, this.id, failed !== null, this.opts.retryForMs, reason);
    });
    if (disabled) {
      this.log.warn({ webhookId: this.id, reason }, 'webhook disabled');
      this.stopped = true;
      this.onDisabled();
    } else if (failed !== null) {
      this.log.info({ webhookId: this.id, error: failed }, 'webhook delivery failed; will retry');
    }
    return outcomes.length;
  }

  /** POSTs one event; null when answered 2xx, else what went wrong. */
  private async post(d: store.Claimed): Promise<string | null> {
    const body = payloadOf({ id: d.eventId, type: d.type, createdAt: d.createdAt, data: d.data });
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Herald-Webhooks',
      ...signedHeaders(this.secret, eventIdOf(d.eventId), body, Math.floor(Date.now() / 1000)),
    };
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: `${this.target.pathname}${this.target.search}`,
        headers,
        body,
        // headersTimeout and bodyTimeout (the pool's) bound the wait: no timer per request.
      });
      await res.body.dump().catch(() => {});
      return res.statusCode >= 200 && res.statusCode < 300 ? null : `HTTP ${res.statusCode}`;
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT') {
        return `no answer in ${this.opts.timeoutMs} ms`;
      }
      return e.code ?? e.message ?? 'request failed';
    }
  }
}

/** A DNS lookup that refuses loopback, private and link-local answers (checked at connect, against rebinding). */
function publicOnlyLookup(
  hostname: string,
  options: LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const list = addresses as LookupAddress[];
    const refused = list.find((a) => isPrivateAddress(a.address));
    if (refused) return callback(Object.assign(new Error(`${hostname} resolves to a private address`), { code: 'EPRIVATEADDRESS' }), '');
    if ((options as { all?: boolean }).all) return callback(null, list);
    callback(null, list[0].address, list[0].family);
  });
}
