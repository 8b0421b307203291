import { randomBytes } from 'node:crypto';
import type { Config } from '../config';
import type { Db } from '../db/connection';
import type { Outbox, RoutedMessage, RoutedSending, SendOutcome, Sender } from '../dispatch/dispatch.ports';
import { HttpGateway } from '../gateway/gateway.client';
import { GatewaySimulator } from '../gateway/simulator';
import type { Logger } from '../logger';
import type { ProviderInbox } from './provider-inbox';
import { SharedRate } from './provider-rate';
import { ProviderRouter, type ProviderSpec } from './provider.router';
import type { ProviderKind } from './provider.type';
import type { ProviderConfig, ProvidersConfig } from './providers.file';
import { SmppSender } from './smpp.client';

/** How an SMPP provider rebinds after a loss: quickly at first, never slower than this (so its traffic returns within seconds). */
const SMPP_RECONNECT_MIN_MS = 200;
const SMPP_RECONNECT_MAX_MS = 3_000;

/** A configured provider, as an api process names it (no secrets). */
export type ProviderListing = { name: string; type: ProviderKind; partsPerSecond: number; /** the built-in gateway simulator: no message reaches a phone */ simulated: boolean };

/**
 * The providers and routes this process sends through: PROVIDERS_FILE; else SENDER_URL and
 * SENDER_TOKEN as one HTTP provider named `default`; else (asked for, or outside production)
 * a gateway simulator in this process on loopback as `default`, said loudly since nothing
 * sent to it reaches a phone. config.ts has refused every other case.
 */
export async function providersOf(
  config: Config,
  log: Logger,
): Promise<{
  providers: ProvidersConfig;
  stop: () => Promise<void>;
  /** told Herald's own URL once it listens */
  listening: (url: string) => void;
  /** the built-in simulator when it is the `default` provider (its controls are served under Herald's port in development) */
  simulator?: GatewaySimulator;
}> {
  const none = { stop: async () => {}, listening: () => {} };
  if (config.providers) return { providers: config.providers, ...none };
  const d = config.dispatch;
  // The default provider's receipt token: SENDER_RECEIPT_TOKEN, or the built-in simulator's own.
  const single = (url: string, token: string, receiptToken = config.senderReceiptToken): ProvidersConfig => ({
    providers: [{ name: 'default', type: 'http', url, token, concurrency: d.concurrency, partsPerSecond: d.rateLimit, ...(receiptToken ? { receiptToken } : {}) }],
    routes: [{ operatorCodes: null, providers: ['default'] }],
  });
  if (config.senderUrl && config.senderToken) return { providers: single(config.senderUrl, config.senderToken), ...none };
  const token = randomBytes(24).toString('base64url');
  // The simulator posts receipts and replies back to this Herald as the `default` provider,
  // with a token of its own, so that delivery rates show with no configuration.
  const receiptToken = randomBytes(24).toString('base64url');
  const r = config.simulatorReceipts;
  const simulator = new GatewaySimulator({
    token,
    record: false,
    receiptToken,
    behaviour: { receipts: r.receipts, deliveredRate: r.deliveredRate, receiptDelayMs: r.receiptDelayMs },
    mode: config.simulatorMode.mode,
    flakyCycleMs: config.simulatorMode.flakyCycleMs,
  });
  const callbacksAt = (base: string) => simulator.setCallbacks({ receiptsUrl: `${base}/providers/default/receipts`, inboundUrl: `${base}/providers/default/inbound` });
  // Herald's port is known now unless it is 0 (any port): then from `listening`. Until then receipts wait.
  if (config.port !== 0) callbacksAt(`http://${loopbackOf(config.host)}:${config.port}`);
  const url = await simulator.start(0, '127.0.0.1');
  log.warn({ senderUrl: url, provider: 'default', receipts: r.receipts, mode: config.simulatorMode.mode }, 'no provider configured: sending to the built-in gateway SIMULATOR; no message reaches a phone');
  process.stderr.write(`\nNo SENDER_URL set: messages go to a built-in gateway simulator at ${url}, not to real phones.\n\n`);
  return {
    providers: single(url, token, receiptToken),
    simulator,
    stop: () => simulator.stop(),
    listening: (heraldUrl) => {
      const { hostname, port } = new URL(heraldUrl);
      callbacksAt(`http://${loopbackOf(hostname)}:${port}`);
    },
  };
}

/** Where this process reaches itself: a wildcard address is listened on at loopback too. */
function loopbackOf(host: string): string {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === '0.0.0.0' || h === '') return '127.0.0.1';
  if (h === '::') return '[::1]';
  return h.includes(':') ? `[${h}]` : h;
}

/**
 * One provider adapter per configured provider, each with its shared rate when it has a
 * limit, behind one router. `observe` is told each request as it starts (metrics).
 */
export function buildProviders(
  providers: ProvidersConfig,
  config: Config,
  /** the database the shared rates reserve in, asked for only when a provider has a limit */
  db: () => Db,
  log: Logger,
  observe?: (provider: string) => () => (result: SendOutcome['kind']) => void,
  /** where SMPP providers hand the receipts and replies their SMSCs deliver */
  inbox?: ProviderInbox,
): ProviderRouter {
  const d = config.dispatch;
  let router: ProviderRouter | undefined;
  const specs = providers.providers.map((p): ProviderSpec => {
    const rate = p.partsPerSecond > 0 ? new SharedRate(db(), { provider: p.name, partsPerSecond: p.partsPerSecond, log: log.child({ provider: p.name }) }) : null;
    rate?.start();
    const { sender, concurrency, link } = adapterOf(p, config, log, observe, () => router?.linkChanged(p.name), inbox);
    return { name: p.name, type: kindOf(p), sender, concurrency, partsPerSecond: p.partsPerSecond, rate, link };
  });
  router = new ProviderRouter(specs, providers.routes, {
    flow: { breaker: d.breaker, authProbeMs: d.authProbeMs },
    throttleBaseMs: Math.min(d.retryBaseMs, 250),
    throttleMaxMs: Math.max(d.breaker.maxOpenMs, 1_000),
  }, log);
  return router;
}

/** The providers as listed to operators (no secrets), and how many messages may be in flight over all of them. */
export function describeProviders(providers: ProvidersConfig, simulated: readonly string[] = []): { listing: ProviderListing[]; concurrency: number } {
  return {
    listing: providers.providers.map((p) => ({ name: p.name, type: kindOf(p), partsPerSecond: p.partsPerSecond, simulated: simulated.includes(p.name) })),
    concurrency: providers.providers.reduce((n, p) => n + admissionOf(p), 0),
  };
}

const kindOf = (p: ProviderConfig): ProviderKind => (p.type === 'http' ? 'HTTP' : 'SMPP');

/** Requests (HTTP) or unacknowledged submits (SMPP: binds × window unless set lower) in flight at most, per process. */
function concurrencyOf(p: ProviderConfig): number {
  return p.type === 'http' ? p.concurrency : (p.concurrency ?? p.binds * p.window);
}

/**
 * Messages handed to a provider at once, per process. An SMSC answers a window in well
 * under a millisecond when it is fast: with only the window's worth handed over, every
 * answer cost a claim of its own (528 msg/s at binds 1, window 10, against 14,632 for the
 * `smpp` client alone). So an SMPP provider is handed four windows' worth, the rest
 * waiting in its adapter, in order, for room in a window (which still bounds what is
 * unacknowledged at the SMSC). HTTP requests beyond its connections would only queue in the
 * pool: its concurrency.
 */
const SMPP_QUEUED_WINDOWS = 4;
function admissionOf(p: ProviderConfig): number {
  return p.type === 'http' ? p.concurrency : SMPP_QUEUED_WINDOWS * concurrencyOf(p);
}

/**
 * An outbox built at its first use (an api process's first test send), so that a process
 * that never sends holds no connection to any provider.
 */
export class LazyOutbox implements Outbox {
  private inner: Outbox | undefined;
  private closed = false;

  constructor(private readonly build: () => Outbox) {}

  private get outbox(): Outbox {
    if (this.closed) throw new Error('the providers are closed');
    return (this.inner ??= this.build());
  }

  permits(wanted: number, now: number, mailingId?: number): number {
    return this.outbox.permits(wanted, now, mailingId);
  }

  waitMs(now: number): number {
    return this.outbox.waitMs(now);
  }

  send(message: RoutedMessage, deadline: number): RoutedSending {
    return this.outbox.send(message, deadline);
  }

  problem(): string | null {
    return this.inner?.problem() ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inner?.close();
  }
}

function adapterOf(
  p: ProviderConfig,
  config: Config,
  log: Logger,
  observe: ((provider: string) => () => (result: SendOutcome['kind']) => void) | undefined,
  linkChanged: () => void,
  inbox: ProviderInbox | undefined,
): { sender: Sender; concurrency: number; link?: ProviderSpec['link'] } {
  const d = config.dispatch;
  // A provider's own timeout, never past SENDER_TIMEOUT_MS (which leases are sized by).
  const requestTimeoutMs = Math.min(p.timeoutMs ?? d.requestTimeoutMs, d.requestTimeoutMs);
  if (p.type === 'http') {
    const sender = new HttpGateway({ url: p.url, token: p.token, connections: p.concurrency, requestTimeoutMs, observe: observe?.(p.name) });
    return { sender, concurrency: admissionOf(p) };
  }
  const binds = p.binds;
  const sender = new SmppSender({
    name: p.name,
    host: p.host,
    port: p.port,
    tls: p.tls,
    systemId: p.systemId,
    password: p.password,
    systemType: p.systemType,
    sourceAddr: p.sourceAddr,
    receipts: p.receipts,
    binds,
    window: p.window,
    maxUnacknowledged: concurrencyOf(p),
    requestTimeoutMs,
    enquireLinkMs: p.enquireLinkMs,
    reconnectMinMs: SMPP_RECONNECT_MIN_MS,
    reconnectMaxMs: SMPP_RECONNECT_MAX_MS,
    log,
    observe: observe?.(p.name),
    onStateChange: linkChanged,
    inbox,
  });
  const link = () => {
    const s = sender.state();
    return { state: s.state, reason: s.reason, bindsUp: s.bindsUp, binds };
  };
  return { sender, concurrency: admissionOf(p), link };
}
