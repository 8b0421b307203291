import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SendOutcome } from '../dispatch/dispatch.ports';
import type { Logger } from '../logger';
import type { QueueFigures } from './metrics.store';

/** The outcomes herald_messages_total counts: what a written result did to its message. */
export const MESSAGE_OUTCOMES = ['sent', 'failed', 'retried', 'expired', 'cancelled', 'skipped', 'delivered', 'undelivered'] as const;
export type MessageOutcome = (typeof MESSAGE_OUTCOMES)[number];

/**
 * What a receipt did: moved its message to DELIVERED or UNDELIVERED, was kept for a message
 * not recorded yet (parked), named no message Herald knows (unknown), or repeated a final
 * status (duplicate, nothing changed).
 */
export const RECEIPT_RESULTS = ['delivered', 'undelivered', 'parked', 'unknown', 'duplicate'] as const;
export type ReceiptResult = (typeof RECEIPT_RESULTS)[number];

const GATEWAY_RESULTS: readonly SendOutcome['kind'][] = ['sent', 'rejected', 'unauthorized', 'throttled', 'retryable'];
const BREAKER_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const;
export type BreakerState = keyof typeof BREAKER_VALUES;

export type MetricsSources = {
  /** the mailings and the queue depth, read from the database (cached `cacheMs`) */
  queue: () => Promise<QueueFigures>;
  cacheMs: number;
  /** each provider's circuit breaker; absent on an api process */
  breakers?: () => { provider: string; state: BreakerState }[];
};

/** One provider's request figures: plain numbers and a histogram bound to its label once. */
type ProviderRequests = { results: Record<SendOutcome['kind'], number>; inFlight: number; duration: { observe: (seconds: number) => void } };

/**
 * Every metric a Herald process exposes, in a registry of its own (several Heralds in one
 * test process must not add to each other's counters). Counters on the hot path are bound to
 * their label values once, here, so that counting a request is an increment, not a lookup.
 * Figures that live in the database are read at scrape time, never kept up to date on the way.
 */
export class Metrics {
  readonly registry = new Registry();
  // The dispatch path's counts are plain numbers, read by prom-client at a scrape: counting a
  // message is an addition, not a label lookup.
  private readonly messages = Object.fromEntries(MESSAGE_OUTCOMES.map((o) => [o, 0])) as Record<MessageOutcome, number>;
  /** per provider, made at its first request */
  private readonly providers = new Map<string, ProviderRequests>();
  /** per provider, made at its first receipt */
  private readonly receiptCounts = new Map<string, Record<ReceiptResult, number>>();
  private readonly gatewayDuration: Histogram<'provider'>;
  private readonly graphqlOperations: Counter<'type' | 'outcome'>;
  private readonly graphqlDuration: Histogram<'type'>;
  private readonly subscriptions: Gauge<never>;
  private readonly partitionsDropped: Counter<never>;
  private readonly messagesPruned: Counter<never>;
  /** the websocket's shared executions (subscription.fanout.ts) */
  readonly liveExecutions: Gauge<never>;
  readonly liveSkipped: Counter<never>;
  private cached: { at: number; figures: Promise<QueueFigures> } | null = null;

  constructor(log: Logger, private sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: '' });

    const self = this;
    new Counter({
      name: 'herald_messages_total',
      help: 'Message results written, by outcome',
      labelNames: ['outcome'] as const,
      registers,
      collect() {
        this.reset();
        for (const o of MESSAGE_OUTCOMES) this.labels(o).inc(self.messages[o]);
      },
    });
    new Counter({
      name: 'herald_receipts_total',
      help: "Delivery receipts the providers sent, by provider and what they did (delivered, undelivered, parked, unknown, duplicate)",
      labelNames: ['provider', 'result'] as const,
      registers,
      collect() {
        this.reset();
        for (const [provider, counts] of self.receiptCounts) for (const r of RECEIPT_RESULTS) this.labels(provider, r).inc(counts[r]);
      },
    });
    new Counter({
      name: 'herald_gateway_requests_total',
      help: 'Requests to the SMS providers (HTTP requests, SMPP submits), by provider and result class',
      labelNames: ['provider', 'result'] as const,
      registers,
      collect() {
        this.reset();
        for (const [provider, p] of self.providers) for (const r of GATEWAY_RESULTS) this.labels(provider, r).inc(p.results[r]);
      },
    });
    this.gatewayDuration = new Histogram({
      name: 'herald_gateway_request_duration_seconds',
      help: 'Time from sending a request to a provider to its answer (or failure), by provider',
      labelNames: ['provider'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    new Gauge({
      name: 'herald_gateway_in_flight',
      help: 'Requests to the providers under way in this process, by provider',
      labelNames: ['provider'] as const,
      registers,
      collect() {
        this.reset();
        for (const [provider, p] of self.providers) this.labels(provider).set(p.inFlight);
      },
    });
    new Gauge({
      name: 'herald_gateway_breaker_state',
      help: "Each provider's circuit breaker: 0 closed, 1 half-open, 2 open (worker processes only)",
      labelNames: ['provider'] as const,
      registers,
      collect() {
        this.reset();
        for (const b of self.sources.breakers?.() ?? []) this.labels(b.provider).set(BREAKER_VALUES[b.state]);
      },
    });
    new Gauge({
      name: 'herald_mailings',
      help: 'Mailings by status (the same figure on every process)',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        const figures = await self.figures(log);
        this.reset();
        if (figures) for (const [status, n] of figures.mailingsByStatus) this.labels(status).set(n);
      },
    });
    new Gauge({
      name: 'herald_messages_due',
      help: 'Messages of running mailings not sent yet: the queue depth (the same figure on every process)',
      registers,
      async collect() {
        const figures = await self.figures(log);
        if (figures) this.set(figures.messagesDue);
      },
    });

    new Gauge({
      name: 'herald_mailing_unsent',
      help: 'Per running mailing: messages not sent yet (the same figure on every process)',
      labelNames: ['mailing_id'] as const,
      registers,
      async collect() {
        const figures = await self.figures(log);
        this.reset();
        if (figures) for (const m of figures.running) this.labels(String(m.id)).set(m.unsent);
      },
    });
    new Gauge({
      name: 'herald_mailing_seconds_left',
      help: 'Per running mailing: seconds until its endAt (the same figure on every process)',
      labelNames: ['mailing_id'] as const,
      registers,
      async collect() {
        const figures = await self.figures(log);
        this.reset();
        if (figures) for (const m of figures.running) this.labels(String(m.id)).set(Math.round(m.secondsLeft));
      },
    });

    this.partitionsDropped = new Counter({
      name: 'herald_message_partitions_dropped_total',
      help: "Messages partitions dropped by the retention (MESSAGE_RETENTION_DAYS), in the worker that ran the drop",
      registers,
    });
    this.messagesPruned = new Counter({
      name: 'herald_messages_pruned_total',
      help: 'Messages that left with their partition (retention), in the worker that ran the drop',
      registers,
    });
    this.graphqlOperations = new Counter({
      name: 'herald_graphql_operations_total',
      help: 'GraphQL operations, by type and outcome (ok or error)',
      labelNames: ['type', 'outcome'] as const,
      registers,
    });
    this.graphqlDuration = new Histogram({
      name: 'herald_graphql_duration_seconds',
      help: 'GraphQL operation durations (a subscription: until it ends)',
      labelNames: ['type'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.subscriptions = new Gauge({ name: 'herald_subscriptions_active', help: 'GraphQL subscriptions open on this process', registers });
    this.liveExecutions = new Gauge({
      name: 'herald_live_executions',
      help: 'Shared subscription executions running on this process: one per operation (document, variables, role), however many subscribe to it',
      registers,
    });
    this.liveSkipped = new Counter({
      name: 'herald_live_skipped_total',
      help: 'Subscription events not written to a websocket because it had more than WS_MAX_BUFFERED_BYTES unsent',
      registers,
    });
  }

  /** The providers' breakers, once the worker has them. */
  watchBreakers(breakers: () => { provider: string; state: BreakerState }[]): void {
    this.sources = { ...this.sources, breakers };
  }

  /** Results committed by the dispatcher (counted once, after their transaction). */
  messageResults(rows: readonly { status: string; attempted: boolean }[]): void {
    for (const r of rows) {
      const outcome = outcomeOf(r.status, r.attempted);
      if (outcome) this.messages[outcome]++;
    }
  }

  /** Messages a mailing's end or cancellation gave their final status at once, not one by one. */
  messagesSettled(settled: Partial<Record<'EXPIRED' | 'CANCELLED' | 'SKIPPED', number>>): void {
    for (const [status, n] of Object.entries(settled)) {
      const outcome = outcomeOf(status, false);
      if (outcome && n) this.messages[outcome] += n;
    }
  }

  /**
   * Receipts handled (counted once, after their transaction): the receipts service's observer.
   * A delivered or undelivered one is a message result too (herald_messages_total); a parked
   * one is counted again as such when it is applied.
   */
  /** A messages partition dropped by the retention, with its rows. */
  partitionDropped(rows: number): void {
    this.partitionsDropped.inc();
    this.messagesPruned.inc(rows);
  }

  receipts(provider: string, result: ReceiptResult, n: number): void {
    if (n <= 0) return;
    let counts = this.receiptCounts.get(provider);
    if (!counts) this.receiptCounts.set(provider, (counts = Object.fromEntries(RECEIPT_RESULTS.map((r) => [r, 0])) as Record<ReceiptResult, number>));
    counts[result] += n;
    if (result === 'delivered' || result === 'undelivered') this.messages[result] += n;
  }

  /** A request to this provider starts; the returned function records its result. */
  gatewayRequest(provider: string): (result: SendOutcome['kind']) => void {
    const p = this.providers.get(provider) ?? this.addProvider(provider);
    const started = performance.now();
    p.inFlight++;
    return (result) => {
      p.inFlight--;
      p.duration.observe((performance.now() - started) / 1000);
      p.results[result]++;
    };
  }

  graphqlStarted(type: string): void {
    if (type === 'subscription') this.subscriptions.inc();
  }

  graphqlFinished(type: string | null, outcome: 'ok' | 'error', seconds: number, wasStarted: boolean): void {
    const t = type ?? 'unknown';
    if (wasStarted && t === 'subscription') this.subscriptions.dec();
    this.graphqlOperations.labels(t, outcome).inc();
    this.graphqlDuration.labels(t).observe(seconds);
  }

  private addProvider(provider: string): ProviderRequests {
    const p = {
      results: Object.fromEntries(GATEWAY_RESULTS.map((r) => [r, 0])) as Record<SendOutcome['kind'], number>,
      inFlight: 0,
      duration: this.gatewayDuration.labels(provider),
    };
    this.providers.set(provider, p);
    return p;
  }

  /** The database figures, read at most once per cacheMs whatever scrapes and gauges ask; null when the read failed. */
  private async figures(log: Logger): Promise<QueueFigures | null> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= this.sources.cacheMs) {
      this.cached = { at: now, figures: this.sources.queue() };
      this.cached.figures.catch(() => (this.cached = null));
    }
    try {
      return await this.cached.figures;
    } catch (err) {
      log.warn({ err }, 'reading the queue figures for /metrics failed');
      return null;
    }
  }
}

/** A written result as an outcome: a PENDING one that was tried is a retry; one that waits for its window is not counted. */
function outcomeOf(status: string, attempted: boolean): MessageOutcome | null {
  switch (status) {
    case 'SENT':
      return 'sent';
    case 'FAILED':
      return 'failed';
    case 'PENDING':
      return attempted ? 'retried' : null;
    case 'EXPIRED':
      return 'expired';
    case 'CANCELLED':
      return 'cancelled';
    case 'SKIPPED':
      return 'skipped';
    case 'DELIVERED':
      return 'delivered';
    case 'UNDELIVERED':
      return 'undelivered';
    default:
      return null;
  }
}
