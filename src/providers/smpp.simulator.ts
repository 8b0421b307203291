import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import { DEFAULT_RECEIPT_BEHAVIOUR, pickOutcome, RECEIPT_CODES, receiptDelay, type ReceiptBehaviour, type ReceiptOutcome } from '../gateway/simulator.receipts';
import { readConcatenation } from './smpp.parts';

/**
 * How the simulated SMSC behaves; change it at any time with `set()`. The names follow the
 * HTTP simulator's (gateway/simulator.ts) where they mean the same; rates are shares of
 * submit_sm, 0 to 1.
 */
export type SmscBehaviour = {
  /** answer each submit_sm after this many ms; [min, max] picks uniformly */
  latencyMs: number | [number, number];
  /** share answered ESME_RSYSERR (0x08) */
  errorRate: number;
  /** share answered ESME_RINVDSTADR (0x0B), as if the number were invalid */
  rejectRate: number;
  /** answer every submit_sm with this command_status (0x58 to throttle, 0x14, …) instead */
  forceStatus: number | null;
  /** beyond this many submit_sm in one second (all sessions together), answer ESME_RTHROTTLED */
  throttleAbovePerSecond: number | null;
  /** answer every bind_transceiver with ESME_RBINDFAIL */
  refuseBinds: boolean;
  /** refuse (ESME_RBINDFAIL) a bind beyond this many sessions bound at once, as an account's limit */
  maxBinds: number | null;
  /** refuse service: every connection is destroyed at once */
  down: boolean;
  /** accept submit_sm and never answer them (enquire_link still is) */
  hang: boolean;
  /** a share of submit_sm answered after `tailMs` instead of `latencyMs`: a long tail */
  tailRate: number;
  tailMs: number;
  /**
   * one receipt per part, each with that part's message_id (as many SMSCs do), instead of one
   * per message with its first part's message_id (the id Herald keeps), sent once the last
   * part has arrived
   */
  receiptPerPart: boolean;
  /** a receipt's deliver_sm not answered this long is sent again, at most `receiptAttempts` times in all */
  receiptResendMs: number;
  receiptAttempts: number;
} & ReceiptBehaviour;

export const DEFAULT_SMSC_BEHAVIOUR: SmscBehaviour = {
  latencyMs: 0,
  errorRate: 0,
  rejectRate: 0,
  forceStatus: null,
  throttleAbovePerSecond: null,
  refuseBinds: false,
  maxBinds: null,
  down: false,
  hang: false,
  tailRate: 0,
  tailMs: 0,
  receiptPerPart: false,
  receiptResendMs: 5_000,
  receiptAttempts: 3,
  ...DEFAULT_RECEIPT_BEHAVIOUR,
};

/** One deliver_sm the SMSC sent: a receipt or a reply, and how it went. */
export type SmscDeliver = {
  kind: 'receipt' | 'reply';
  /** the message_id a receipt is for */
  messageId: string | null;
  outcome: ReceiptOutcome | null;
  source: string;
  destination: string;
  text: string;
  attempts: number;
  /** the deliver_sm_resp's command_status, null while unanswered (and for good when given up on) */
  status: number | null;
  sentAt: number;
  answeredAt: number | null;
};

/** One submit_sm as the SMSC received it. */
export type SmscSubmit = {
  sequence: number;
  source: string;
  destination: string;
  dataCoding: number;
  esmClass: number;
  /** 0: no receipt asked; 1: a receipt on the final outcome; 2: on failure only */
  registeredDelivery: number;
  /** this part's text, decoded by its data_coding */
  text: string;
  /** the concatenation header, for a part of a longer text */
  concatenation: { reference: number; total: number; sequence: number } | null;
  at: number;
  /** when it was answered (null while unanswered, and for ever when hanging) */
  answeredAt: number | null;
  /** the command_status it is (or will be) answered with */
  status: number;
  /** the message_id it was given (accepted ones only) */
  messageId: string | null;
};

/** One bound session, from its bind to its end. */
export type SmscBind = {
  /** in the order binds were accepted, from 0 */
  index: number;
  systemId: string;
  boundAt: number;
  submits: SmscSubmit[];
  /** submit_sm received and not yet answered, now and at most */
  unacknowledged: number;
  maxUnacknowledged: number;
  /** submit_sm received per wall-clock second (epoch seconds) */
  perSecond: Map<number, number>;
  enquireLinks: number;
  /** whether the client sent unbind */
  unbound: boolean;
  closedAt: number | null;
};

/** A whole text as the handset would show it: a single part, or every part of one reference. */
export type SmscMessage = {
  destination: string;
  text: string;
  dataCoding: number;
  parts: number;
  /** the bind every part came through (-1 if they came through different ones) */
  bind: number;
  /** whether every part was accepted (status 0) */
  accepted: boolean;
  /** the message_id of each part, in part order (null where refused) */
  messageIds: (string | null)[];
  at: number;
};

/**
 * A stand-in SMSC (SMPP 3.4, built on the `smpp` package's server): binds transceivers with
 * one system_id and password, answers submit_sm with a message_id after a latency, and is
 * unreliable on request. It records what it received, per bind, with concatenated parts
 * reassembled into texts, so that tests can assert what an SMSC saw.
 */
export class SmppSimulator {
  private behaviour: SmscBehaviour;
  private server: smpp.Server | undefined;
  private address: { port: number; host: string } | undefined;
  private readonly sessions = new Map<smpp.Session, SmscBind | null>();
  readonly binds: SmscBind[] = [];
  readonly messages: SmscMessage[] = [];
  /** submit_sm received per wall-clock second (epoch seconds), every session together */
  readonly perSecond = new Map<number, number>();
  /** TCP connections opened to it, refused ones included */
  connectionCount = 0;
  bindAttempts = 0;
  refusedBinds = 0;
  unbinds = 0;
  /** submit_sm received and accepted (status 0), counted whether or not they are recorded */
  submitCount = 0;
  acceptedCount = 0;
  /** the destination_addr of every submit_sm received: how many numbers it was asked to reach */
  readonly destinations = new Set<string>();
  /** when the first submit_sm arrived (ms) */
  firstSubmitAt: number | null = null;
  private messageIds = 0;
  /** parts of longer texts, by destination and reference, until the last one arrives */
  private readonly partial = new Map<string, SmscSubmit[]>();
  private readonly partialBinds = new Map<string, Set<number>>();
  /** deliver_sm sent (receipts and replies), in order, when recording */
  readonly delivers: SmscDeliver[] = [];
  /** receipts drawn by outcome; receipts and replies answered, and given up on after every attempt */
  readonly receiptOutcomes: Record<ReceiptOutcome, number> = { delivered: 0, expired: 0, rejected: 0, undelivered: 0 };
  deliversAnswered = 0;
  deliversFailed = 0;
  private readonly deliverTimers = new Set<NodeJS.Timeout>();
  /** accepted parts of longer texts waiting for the rest, for a receipt per message */
  private readonly receiptParts = new Map<string, { ids: (string | null)[]; left: number }>();
  /** the source_addr of the last submit_sm: where a reply goes when none is named */
  private lastSource: string | null = null;

  /**
   * `record: false` keeps the counts (submitCount, destinations, per-second and per-bind
   * figures) and drops the submits and reassembled messages, so that a standalone simulator
   * sent millions does not grow by an object each.
   */
  constructor(private readonly options: { systemId: string; password: string; behaviour?: Partial<SmscBehaviour>; record?: boolean }) {
    this.behaviour = { ...DEFAULT_SMSC_BEHAVIOUR, ...options.behaviour };
  }

  set(change: Partial<SmscBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...change };
  }

  get current(): SmscBehaviour {
    return this.behaviour;
  }

  /** every submit_sm received, in arrival order */
  get submits(): SmscSubmit[] {
    return this.binds.flatMap((b) => b.submits).sort((a, b) => a.at - b.at);
  }

  /** sessions bound now */
  get bound(): SmscBind[] {
    return [...this.sessions.values()].filter((b): b is SmscBind => b !== null);
  }

  async start(port = 0, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    const address = await this.listen(port, host);
    this.address = { host, port: address.port };
    return this.address;
  }

  async stop(): Promise<void> {
    for (const t of this.deliverTimers) clearTimeout(t);
    this.deliverTimers.clear();
    await this.refuse();
  }

  /** Stops listening: connections are refused (ECONNREFUSED) until `accept()`; open ones are broken. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again, on the same port, after `refuse()`. */
  async accept(): Promise<void> {
    if (this.server || !this.address) return;
    await this.listen(this.address.port, this.address.host);
  }

  /** Forgets what was received and counted; the binds stay listed, their figures start again. */
  resetCounts(): void {
    this.messages.length = 0;
    this.perSecond.clear();
    this.destinations.clear();
    this.partial.clear();
    this.partialBinds.clear();
    this.submitCount = this.acceptedCount = 0;
    this.delivers.length = 0;
    this.receiptParts.clear();
    this.deliversAnswered = this.deliversFailed = 0;
    for (const k of Object.keys(this.receiptOutcomes) as ReceiptOutcome[]) this.receiptOutcomes[k] = 0;
    this.firstSubmitAt = null;
    for (const bind of this.binds) {
      bind.submits.length = 0;
      bind.perSecond.clear();
      bind.maxUnacknowledged = bind.unacknowledged;
    }
  }

  /** Breaks every open connection at once, answered or not, as an SMSC that falls over would. */
  dropConnections(): void {
    for (const session of this.sessions.keys()) session.destroy();
  }

  /** Asks every bound session to unbind, as an SMSC going down for maintenance does; each closes once answered. */
  unbindAll(): void {
    for (const [session, bind] of this.sessions) {
      if (bind) session.unbind({}, () => session.close());
    }
  }

  private async listen(port: number, host: string): Promise<AddressInfo> {
    const server = smpp.createServer({}, (session) => this.onSession(session));
    server.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    return server.address() as AddressInfo;
  }

  private onSession(session: smpp.Session): void {
    this.connectionCount++;
    session.on('error', () => {});
    if (this.behaviour.down) return void session.destroy();
    this.sessions.set(session, null);
    session.on('close', () => {
      const bind = this.sessions.get(session);
      if (bind) bind.closedAt = Date.now();
      this.sessions.delete(session);
    });
    session.on('bind_transceiver', (pdu: smpp.PDU) => this.onBind(session, pdu));
    session.on('submit_sm', (pdu: smpp.PDU) => this.onSubmit(session, pdu));
    session.on('enquire_link', (pdu: smpp.PDU) => {
      const bind = this.sessions.get(session);
      if (bind) bind.enquireLinks++;
      session.send(pdu.response());
    });
    session.on('unbind', (pdu: smpp.PDU) => {
      const bind = this.sessions.get(session);
      if (bind) bind.unbound = true;
      this.unbinds++;
      session.send(pdu.response(), () => session.close());
    });
  }

  private onBind(session: smpp.Session, pdu: smpp.PDU): void {
    this.bindAttempts++;
    const b = this.behaviour;
    const ok = !b.refuseBinds && (b.maxBinds === null || this.bound.length < b.maxBinds) && pdu.system_id === this.options.systemId && pdu.password === this.options.password;
    if (!ok || this.sessions.get(session)) {
      this.refusedBinds++;
      session.send(pdu.response({ command_status: ok ? smpp.errors.ESME_RALYBND : smpp.errors.ESME_RBINDFAIL }));
      return;
    }
    const bind: SmscBind = {
      index: this.binds.length,
      systemId: String(pdu.system_id),
      boundAt: Date.now(),
      submits: [],
      unacknowledged: 0,
      maxUnacknowledged: 0,
      perSecond: new Map(),
      enquireLinks: 0,
      unbound: false,
      closedAt: null,
    };
    this.binds.push(bind);
    this.sessions.set(session, bind);
    session.send(pdu.response({ system_id: 'herald-sim' }));
  }

  private onSubmit(session: smpp.Session, pdu: smpp.PDU): void {
    const bind = this.sessions.get(session);
    if (!bind) return void session.send(pdu.response({ command_status: smpp.errors.ESME_RINVBNDSTS }));
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const thisSecond = (this.perSecond.get(second) ?? 0) + 1;
    this.perSecond.set(second, thisSecond);
    bind.perSecond.set(second, (bind.perSecond.get(second) ?? 0) + 1);

    const status = this.decide(thisSecond);
    const sm = pdu.short_message as { udh?: Buffer[]; message?: string | Buffer } | undefined;
    const message = sm?.message ?? '';
    const submit: SmscSubmit = {
      sequence: pdu.sequence_number,
      source: String(pdu.source_addr ?? ''),
      destination: String(pdu.destination_addr ?? ''),
      dataCoding: Number(pdu.data_coding ?? 0),
      esmClass: Number(pdu.esm_class ?? 0),
      registeredDelivery: Number(pdu.registered_delivery ?? 0),
      text: typeof message === 'string' ? message : message.toString('latin1'),
      concatenation: readConcatenation(sm?.udh),
      at: now,
      answeredAt: null,
      status,
      messageId: status === 0 ? (++this.messageIds).toString(16).padStart(10, '0') : null,
    };
    this.submitCount++;
    if (status === 0) this.acceptedCount++;
    this.firstSubmitAt ??= now;
    this.lastSource = submit.source;
    this.destinations.add(submit.destination);
    bind.unacknowledged++;
    bind.maxUnacknowledged = Math.max(bind.maxUnacknowledged, bind.unacknowledged);
    if (this.options.record !== false) {
      bind.submits.push(submit);
      this.reassemble(submit, bind.index);
    }

    const b = this.behaviour;
    if (b.hang) return;
    const latency =
      b.tailRate > 0 && Math.random() < b.tailRate
        ? b.tailMs
        : Array.isArray(b.latencyMs)
          ? b.latencyMs[0] + Math.random() * (b.latencyMs[1] - b.latencyMs[0])
          : b.latencyMs;
    const answer = () => {
      if (!this.sessions.has(session)) return;
      bind.unacknowledged--;
      submit.answeredAt = Date.now();
      session.send(pdu.response(status === 0 ? { message_id: submit.messageId } : { command_status: status }));
      // As an SMSC does: a receipt only for a submit_sm that asked for one (registered_delivery's low bits).
      if (status === 0 && this.behaviour.receipts && (submit.registeredDelivery & 0x03) !== 0) this.receiptFor(session, submit);
    };
    if (latency > 0) setTimeout(answer, latency);
    else answer();
  }

  /**
   * Sends a reply from a phone: a deliver_sm with esm_class 0 on a bound session, to `to`
   * (by default the source_addr of the last submit_sm). Resolves with the deliver_sm_resp's
   * command_status, or null when no session is bound or none answered.
   */
  reply(from: string, text: string, to?: string): Promise<number | null> {
    return this.deliver(null, {
      kind: 'reply',
      messageId: null,
      outcome: null,
      source: from,
      destination: to ?? this.lastSource ?? 'Herald',
      text,
      attempts: 0,
      status: null,
      sentAt: 0,
      answeredAt: null,
    }, { esm_class: 0 });
  }

  // A receipt per message waits for the message's last accepted part; a part refused by the
  // SMSC leaves its message without one (the SMSC never took it whole).
  private receiptFor(session: smpp.Session, submit: SmscSubmit): void {
    const c = submit.concatenation;
    if (this.behaviour.receiptPerPart || !c || c.total <= 1) return this.scheduleReceipt(session, submit, submit.messageId!);
    const key = `${submit.destination}|${c.reference}|${c.total}`;
    const entry = this.receiptParts.get(key) ?? { ids: new Array<string | null>(c.total).fill(null), left: c.total };
    if (entry.ids[c.sequence - 1] === null) entry.left--;
    entry.ids[c.sequence - 1] = submit.messageId;
    this.receiptParts.set(key, entry);
    if (entry.left > 0) return;
    this.receiptParts.delete(key);
    this.scheduleReceipt(session, submit, entry.ids[0]!);
  }

  private scheduleReceipt(session: smpp.Session, submit: SmscSubmit, messageId: string): void {
    const b = this.behaviour;
    const outcome = pickOutcome(b);
    this.receiptOutcomes[outcome]++;
    // registered_delivery 2 asks for receipts of failures only.
    if (outcome === 'delivered' && (submit.registeredDelivery & 0x03) === 2) return;
    const timer = setTimeout(() => {
      this.deliverTimers.delete(timer);
      const code = RECEIPT_CODES[outcome];
      const date = smppDate(new Date(submit.at));
      const text =
        `id:${messageId} sub:001 dlvrd:${outcome === 'delivered' ? '001' : '000'} submit date:${date} done date:${smppDate(new Date())} ` +
        `stat:${code.stat} err:${code.err} text:${asciiOf(submit.text).slice(0, 20)}`;
      void this.deliver(
        session,
        { kind: 'receipt', messageId, outcome, source: submit.destination, destination: submit.source, text, attempts: 0, status: null, sentAt: 0, answeredAt: null },
        { esm_class: 0x04, receipted_message_id: messageId, message_state: code.messageState },
      );
    }, receiptDelay(b));
    this.deliverTimers.add(timer);
  }

  /**
   * Sends a deliver_sm on `preferred` while it is bound, else on any bound session (the SMSC
   * delivers to the account, not to a connection), and again after `receiptResendMs` without
   * an answer, `receiptAttempts` times at most.
   */
  private deliver(preferred: smpp.Session | null, record: SmscDeliver, fields: Record<string, unknown>): Promise<number | null> {
    if (this.options.record !== false) this.delivers.push(record);
    return new Promise((resolve) => {
      const attempt = () => {
        const b = this.behaviour;
        const session = preferred && this.sessions.get(preferred) ? preferred : this.bound.length > 0 ? [...this.sessions].find(([, bind]) => bind)![0] : null;
        if (!session || record.attempts >= b.receiptAttempts) {
          this.deliversFailed++;
          return resolve(null);
        }
        record.attempts++;
        record.sentAt = Date.now();
        let answered = false;
        const pdu = new smpp.PDU('deliver_sm', {
          service_type: '',
          source_addr_ton: 1,
          source_addr_npi: 1,
          source_addr: record.source,
          dest_addr_ton: 0,
          dest_addr_npi: 0,
          destination_addr: record.destination,
          short_message: record.text,
          ...fields,
        });
        const timer = setTimeout(() => {
          this.deliverTimers.delete(timer);
          if (!answered) attempt();
        }, b.receiptResendMs);
        this.deliverTimers.add(timer);
        session.send(pdu, (resp) => {
          if (answered) return;
          answered = true;
          clearTimeout(timer);
          this.deliverTimers.delete(timer);
          record.status = resp.command_status;
          record.answeredAt = Date.now();
          this.deliversAnswered++;
          resolve(resp.command_status);
        });
      };
      attempt();
    });
  }

  private decide(thisSecond: number): number {
    const b = this.behaviour;
    if (b.forceStatus !== null) return b.forceStatus;
    if (b.throttleAbovePerSecond !== null && thisSecond > b.throttleAbovePerSecond) return smpp.errors.ESME_RTHROTTLED;
    if (Math.random() < b.rejectRate) return smpp.errors.ESME_RINVDSTADR;
    return Math.random() < b.errorRate ? smpp.errors.ESME_RSYSERR : 0;
  }

  /** Records a whole text once its last part has arrived (a single part is whole at once). */
  private reassemble(submit: SmscSubmit, bindIndex: number): void {
    const c = submit.concatenation;
    if (!c || c.total <= 1) {
      return void this.messages.push({
        destination: submit.destination,
        text: submit.text,
        dataCoding: submit.dataCoding,
        parts: 1,
        bind: bindIndex,
        accepted: submit.status === 0,
        messageIds: [submit.messageId],
        at: submit.at,
      });
    }
    const key = `${submit.destination}|${c.reference}|${c.total}`;
    const parts = this.partial.get(key) ?? [];
    const binds = this.partialBinds.get(key) ?? new Set<number>();
    parts.push(submit);
    binds.add(bindIndex);
    this.partial.set(key, parts);
    this.partialBinds.set(key, binds);
    if (parts.length < c.total) return;
    this.partial.delete(key);
    this.partialBinds.delete(key);
    parts.sort((a, b) => a.concatenation!.sequence - b.concatenation!.sequence);
    this.messages.push({
      destination: submit.destination,
      text: parts.map((p) => p.text).join(''),
      dataCoding: submit.dataCoding,
      parts: parts.length,
      bind: binds.size === 1 ? bindIndex : -1,
      accepted: parts.every((p) => p.status === 0),
      messageIds: parts.map((p) => p.messageId),
      at: parts[0].at,
    });
  }
}

/** YYMMDDhhmm, as receipts write their dates (UTC). */
function smppDate(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}`;
}

/** A receipt's text is ASCII: whatever else the message held reads as `?`. */
const asciiOf = (text: string): string => text.replace(/[^\x20-\x7e]/g, '?');
