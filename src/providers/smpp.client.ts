import smpp from 'smpp';
import { retryDelay } from '../dispatch/backoff';
import type { OutgoingMessage, Sender, Sending, SendOutcome } from '../dispatch/dispatch.ports';
import type { Logger } from '../logger';
import type { ProviderInbox, Receipt } from './provider-inbox';
import { readDeliver } from './smpp.receipt';
import { classifySubmitStatus, statusName } from './smpp.outcome';
import { concatenationHeader, encodeForSmpp, MAX_PARTS, type DataCoding } from './smpp.parts';
import { SubmitSm, submitSourceBytes } from './smpp.submit';

export type SmppSenderOptions = {
  /** the provider's name, on every log line and error */
  name: string;
  host: string;
  port: number;
  /** SMPP over TLS (the server's certificate is checked against the system's CAs) */
  tls?: boolean;
  systemId: string;
  password: string;
  systemType?: string;
  /** the sender shown on the handset: digits (a number) or up to 11 letters and digits */
  sourceAddr: string;
  /** TON/NPI of sourceAddr; by default derived from it (see sourceAddressOf) */
  sourceAddrTon?: number;
  sourceAddrNpi?: number;
  /** ask the SMSC for a delivery receipt of each message (registered_delivery 1; default true) */
  receipts?: boolean;
  /** bound sessions (default 1) */
  binds?: number;
  /** unacknowledged submit_sm per session at most (default 10) */
  window?: number;
  /** unacknowledged submit_sm over every session at most (default binds × window) */
  maxUnacknowledged?: number;
  /** for a connection, a bind, a submit_sm_resp, an enquire_link_resp */
  requestTimeoutMs: number;
  /** how often each session sends enquire_link */
  enquireLinkMs: number;
  /** reconnect delay: exponential from min to max, with jitter */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  log: Logger;
  /** called as each message starts; the function it returns, with its outcome's class (metrics) */
  observe?: () => (result: SendOutcome['kind']) => void;
  /** called whenever state() changes (bindsUp, state or reason) */
  onStateChange?: (state: SmppState) => void;
  /** where the SMSC's deliver_sm go (receipts and replies); without it they are only acknowledged */
  inbox?: ProviderInbox;
};

export type SmppState = {
  /** UP: every session bound; DEGRADED: some; DOWN: none (messages are answered retryable at once) */
  state: 'UP' | 'DEGRADED' | 'DOWN';
  /** why not UP, else null */
  reason: string | null;
  bindsUp: number;
  /** submit_sm PDUs written and not yet answered, over every session */
  inFlight: number;
};

/** deliver_sm_resp status asking the SMSC to deliver the PDU again later (Herald could not keep it) */
const ESME_RX_T_APPN = 0x64;
/** receipts handed to the inbox in one transaction at most */
const RECEIPT_BATCH = 500;
/** message ids of later parts remembered (their receipts are recognised and ignored) */
const LATER_PARTS_KEPT = 100_000;

type PendingReceipt = { receipt: Receipt; answer: (status: number) => void };

/** SMPP 3.4 (bind_transceiver's interface_version) */
const INTERFACE_VERSION = 0x34;
/** how long close() waits for each unbind_resp */
const UNBIND_WAIT_MS = 1_000;

/**
 * An SMSC over SMPP 3.4 (npm `smpp`): `binds` transceiver sessions, each with at most
 * `window` submit_sm unacknowledged; messages beyond that wait in one queue, in order, and
 * a bind takes the next one as soon as it has room (so the binds share the load). A text
 * longer than one part goes as concatenated parts, all through one bind, in order.
 *
 * The sender owns its sessions: it binds them at construction, keeps them alive with
 * enquire_link, and rebinds with backoff after a dropped connection or a refused bind.
 * While no session is bound it answers every message `retryable` at once, with the reason,
 * so that a router can pass it over; it never throws from send() and never crashes the
 * process. The password goes into bind_transceiver and nowhere else.
 */
export class SmppSender implements Sender {
  private readonly binds: Bind[];
  /** messages waiting for room in a window, oldest first (settled ones are skipped as taken) */
  private readonly waiting: Submission[] = [];
  private waitingHead = 0;
  private reference = 0;
  private closed = false;
  private lastState = '';
  private receiptQueue: PendingReceipt[] = [];
  private receiptFlush: NodeJS.Immediate | undefined;
  /** message_ids the SMSC gave the second and later parts of messages (Herald keeps the first part's) */
  private readonly laterParts = new Set<string>();
  readonly log: Logger;
  readonly source: { ton: number; npi: number };
  /** the submit_sm bytes before the destination, the same for every message */
  readonly sourceBytes: Buffer;
  /** registered_delivery of every submit_sm */
  readonly registeredDelivery: number;

  constructor(readonly options: SmppSenderOptions) {
    this.log = options.log.child({ provider: options.name });
    const derived = sourceAddressOf(options.sourceAddr);
    this.source = { ton: options.sourceAddrTon ?? derived.ton, npi: options.sourceAddrNpi ?? derived.npi };
    this.sourceBytes = submitSourceBytes({ serviceType: '', ...this.source, address: options.sourceAddr });
    // An SMSC sends a receipt only when the submit_sm asks for one (SMPP 3.4 §5.2.17): 1 asks
    // for it on the final outcome, delivered or not.
    this.registeredDelivery = options.receipts === false ? 0 : 1;
    this.binds = Array.from({ length: Math.max(1, options.binds ?? 1) }, (_, i) => new Bind(this, i));
    for (const bind of this.binds) bind.connect();
  }

  /** A later part's message_id: its receipt is the first part's business, and is ignored. */
  noteLaterPart(messageId: string): void {
    if (this.laterParts.size >= LATER_PARTS_KEPT) this.laterParts.delete(this.laterParts.values().next().value as string);
    this.laterParts.add(messageId);
  }

  /**
   * A deliver_sm from a session: a receipt or a reply, handed to the inbox; `answer` sends
   * its deliver_sm_resp with a status: 0 once it is kept, ESME_RX_T_APPN when keeping it
   * failed (the SMSC delivers it again). Every deliver_sm is answered exactly once.
   */
  deliver(pdu: smpp.PDU, answer: (status: number) => void): void {
    const inbox = this.options.inbox;
    if (!inbox) return answer(0);
    let read: ReturnType<typeof readDeliver>;
    try {
      read = readDeliver(pdu as Parameters<typeof readDeliver>[0]);
    } catch (err) {
      this.log.warn({ err }, 'a deliver_sm Herald cannot read; acknowledged');
      return answer(0);
    }
    if (read.kind === 'reply') {
      inbox.reply(this.options.name, read.reply).then(
        () => answer(0),
        (err: unknown) => {
          this.log.warn({ err, phone: read.reply.from }, 'keeping a reply failed; the SMSC is asked to deliver it again');
          answer(ESME_RX_T_APPN);
        },
      );
      return;
    }
    if (!read.receipt) {
      this.log.debug({ providerMessageId: read.providerMessageId ?? undefined, state: read.state }, 'smpp receipt of a state that is not final: nothing changes');
      return answer(0);
    }
    if (this.laterParts.has(read.receipt.providerMessageId)) {
      this.log.debug({ providerMessageId: read.receipt.providerMessageId, state: read.state }, "smpp receipt of a message's later part: the first part's decides");
      return answer(0);
    }
    this.receiptQueue.push({ receipt: read.receipt, answer });
    if (this.receiptQueue.length >= RECEIPT_BATCH) this.flushReceipts();
    else this.receiptFlush ??= setImmediate(() => this.flushReceipts());
  }

  /** The receipts that came in one turn of the event loop, in one transaction. */
  private flushReceipts(): void {
    clearImmediate(this.receiptFlush);
    this.receiptFlush = undefined;
    const batch = this.receiptQueue;
    this.receiptQueue = [];
    if (batch.length === 0) return;
    this.options.inbox!.receipts(this.options.name, batch.map((p) => p.receipt)).then(
      () => batch.forEach((p) => p.answer(0)),
      (err: unknown) => {
        this.log.warn({ err, receipts: batch.length }, 'applying receipts failed; the SMSC is asked to deliver them again');
        batch.forEach((p) => p.answer(ESME_RX_T_APPN));
      },
    );
  }

  /** Resolves once every session has made its first attempt to bind (bound or not): never rejects. */
  ready(): Promise<void> {
    return Promise.all(this.binds.map((b) => b.firstAttempt)).then(() => undefined);
  }

  get window(): number {
    return Math.max(1, this.options.window ?? 10);
  }

  /** Whether every session together may have one more submit_sm unacknowledged. */
  hasRoom(): boolean {
    const limit = this.options.maxUnacknowledged;
    if (limit === undefined) return true;
    let n = 0;
    for (const b of this.binds) n += b.inFlight.size;
    return n < limit;
  }

  send(message: OutgoingMessage, deadline: number): Sending {
    const observed = this.options.observe?.();
    const budget = Math.min(this.options.requestTimeoutMs, deadline - Date.now());
    if (budget <= 0) return answered({ kind: 'retryable', error: 'no time left before the deadline' }, observed);
    if (this.closed) return answered({ kind: 'retryable', error: `${this.options.name}: the provider is closed` }, observed);
    const up = this.binds.filter((b) => b.bound);
    if (up.length === 0) return answered({ kind: 'retryable', error: `${this.options.name} is not bound: ${this.reason()}` }, observed);

    const { dataCoding, parts } = encodeForSmpp(message.text);
    if (parts.length > MAX_PARTS) {
      return answered({ kind: 'rejected', error: `the text needs ${parts.length} parts; at most ${MAX_PARTS} can be concatenated` }, observed);
    }
    const reference = parts.length > 1 ? (this.reference = (this.reference + 1) & 0xff) : 0;
    const job = new Submission(message, dataCoding, parts, reference, budget, observed);
    this.waiting.push(job);
    // The least busy bind first, so that a trickle of messages alternates between binds.
    up.sort((a, b) => a.inFlight.size - b.inFlight.size);
    for (const bind of up) {
      if (job.next > 0) break;
      bind.pump();
    }
    return { written: job.written, outcome: job.outcome };
  }

  /** The next message waiting for a window, if any. */
  takeNext(): Submission | null {
    while (this.waitingHead < this.waiting.length) {
      const job = this.waiting[this.waitingHead++];
      if (!job.settled) {
        this.compact();
        return job;
      }
    }
    this.waiting.length = 0;
    this.waitingHead = 0;
    return null;
  }

  /** The queue is an array read from a head index; what has been read is cut off now and then. */
  private compact(): void {
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
  }

  /** A message a bind took but could not write a part of: first in line again. */
  giveBack(job: Submission): void {
    if (this.waitingHead > 0) this.waiting[--this.waitingHead] = job;
    else this.waiting.unshift(job);
  }

  /** A session came up or went down. */
  bindChanged(): void {
    const now = this.state();
    if (now.bindsUp === 0) {
      // Nothing can take them: answer them now (never written, so another provider may).
      const error = `${this.options.name} is not bound: ${now.reason}`;
      for (let job = this.takeNext(); job; job = this.takeNext()) job.finish({ kind: 'retryable', error });
    } else {
      for (const bind of this.binds) bind.pump();
    }
    const key = `${now.state}|${now.bindsUp}|${now.reason}`;
    if (key !== this.lastState) {
      this.lastState = key;
      this.options.onStateChange?.(now);
    }
  }

  state(): SmppState {
    const bindsUp = this.binds.filter((b) => b.bound).length;
    const inFlight = this.binds.reduce((n, b) => n + b.inFlight.size, 0);
    const state = bindsUp === this.binds.length ? 'UP' : bindsUp > 0 ? 'DEGRADED' : 'DOWN';
    return { state, reason: state === 'UP' ? null : this.reason(), bindsUp, inFlight };
  }

  private reason(): string {
    const down = this.binds.filter((b) => !b.bound);
    const why = down.find((b) => b.reason)?.reason ?? 'not bound yet';
    return down.length === this.binds.length ? why : `${down.length} of ${this.binds.length} binds down: ${why}`;
  }

  /** Never the password, should the sender itself end up in a log line or an error. */
  toJSON(): Record<string, unknown> {
    const { name, host, port, systemId } = this.options;
    return { provider: name, host, port, systemId, ...this.state() };
  }

  /** Unbinds every session (waiting briefly for unbind_resp) and closes it; messages not yet answered are answered retryable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = `${this.options.name}: the provider is closing`;
    for (let job = this.takeNext(); job; job = this.takeNext()) job.finish({ kind: 'retryable', error });
    await Promise.all(this.binds.map((b) => b.close()));
    this.log.info('smpp provider closed');
  }
}

/** One message on its way: its parts, how many went out and came back, and its outcome. */
class Submission {
  readonly written: Promise<void>;
  readonly outcome: Promise<SendOutcome>;
  markWritten!: () => void;
  private resolve!: (outcome: SendOutcome) => void;
  /** parts handed to a session so far */
  next = 0;
  private accepted = 0;
  private firstMessageId: string | undefined;
  settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly message: OutgoingMessage,
    readonly dataCoding: DataCoding,
    readonly parts: Buffer[],
    readonly reference: number,
    budgetMs: number,
    private observed: ((result: SendOutcome['kind']) => void) | undefined,
  ) {
    this.written = new Promise((resolve) => (this.markWritten = resolve));
    this.outcome = new Promise((resolve) => (this.resolve = resolve));
    this.timer = setTimeout(() => {
      // Never written: nothing reached the SMSC, any provider may take it. Written: it may
      // have been delivered, so it is retried on the same provider under the same id.
      this.finish(
        this.next === 0
          ? { kind: 'retryable', error: `the deadline passed while queued for a window (never sent)` }
          : { kind: 'retryable', error: `timeout: no submit_sm_resp within ${Math.round(budgetMs)} ms (it may have been delivered)`, ambiguous: true },
      );
    }, budgetMs);
  }

  /** The SMSC's answer to part `part`; the message is sent once every part is accepted. */
  answer(part: number, status: number, messageId: unknown): void {
    if (this.settled) return;
    const outcome = classifySubmitStatus(status);
    if (outcome.kind !== 'sent') {
      if (this.parts.length > 1 && 'error' in outcome) outcome.error = `part ${part + 1} of ${this.parts.length}: ${outcome.error}`;
      return this.finish(outcome);
    }
    if (part === 0 && typeof messageId === 'string' && messageId !== '') this.firstMessageId = messageId;
    if (++this.accepted === this.parts.length) {
      this.finish(this.firstMessageId === undefined ? { kind: 'sent' } : { kind: 'sent', providerMessageId: this.firstMessageId });
    }
  }

  finish(outcome: SendOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.markWritten();
    this.observed?.(outcome.kind);
    this.observed = undefined;
    this.resolve(outcome);
  }
}

type Unanswered = { job: Submission; part: number; sentAt: number };

/**
 * One transceiver session: connect, bind, submit within the window, keep alive, and after
 * any loss start again with backoff. Each connection attempt has a session object of its
 * own; events of an earlier one are ignored.
 */
class Bind {
  private session: smpp.Session | null = null;
  private phase: 'idle' | 'connecting' | 'binding' | 'bound' | 'closing' | 'closed' = 'idle';
  /** submit_sm written on this session and not answered, by sequence_number, oldest first */
  readonly inFlight = new Map<number, Unanswered>();
  /** the message whose parts this session is writing (all its parts go through this one) */
  private current: Submission | null = null;
  reason: string | null = null;
  /** why the current session is being dropped, said once it has closed */
  private failure: string | null = null;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stepTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private enquirePendingSince: number | null = null;
  private corked = false;
  private lastEnquireAt = 0;
  private onClosed: (() => void) | null = null;
  readonly firstAttempt: Promise<void>;
  private attempted!: () => void;
  private readonly log: Logger;

  constructor(
    private readonly sender: SmppSender,
    readonly index: number,
  ) {
    this.firstAttempt = new Promise((resolve) => (this.attempted = resolve));
    this.log = sender.log.child({ bind: index });
  }

  get bound(): boolean {
    return this.phase === 'bound';
  }

  connect(): void {
    const { host, port, tls, requestTimeoutMs } = this.sender.options;
    this.phase = 'connecting';
    this.failure = null;
    let session: smpp.Session;
    try {
      session = smpp.connect({ host, port, tls: tls === true, servername: host });
    } catch (error) {
      // net.connect throws at once on an impossible address (a port out of range): a reason, not a crash.
      this.session = null;
      this.phase = 'idle';
      return this.failed(`cannot connect: ${(error as Error).message}`, false);
    }
    this.session = session;
    this.stepTimer = setTimeout(() => this.drop(session, `no connection within ${requestTimeoutMs} ms`), requestTimeoutMs);
    // Over TLS the session is usable once the handshake is done, not at the TCP connect.
    session.on(tls ? 'secureConnect' : 'connect', () => this.bind(session));
    // A socket error is followed by close; a PDU the package cannot parse leaves its reader
    // stuck (smpp 0.5.1 returns without clearing its busy flag): drop the session either way.
    session.on('error', (error: Error) => this.drop(session, describeSocketError(error)));
    session.on('close', () => this.onClose(session));
    session.on('submit_sm_resp', (pdu: smpp.PDU) => this.onAnswer(session, pdu));
    // A nack of a submit we wrote is its answer (its status says why); any other nack we ignore.
    session.on('generic_nack', (pdu: smpp.PDU) => this.onAnswer(session, pdu));
    session.on('enquire_link', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('enquire_link_resp', () => (this.enquirePendingSince = null));
    // Receipts and replies: answered once kept (or refused for redelivery), never left unanswered.
    session.on('deliver_sm', (pdu: smpp.PDU) => this.sender.deliver(pdu, (status) => void session.send(pdu.response({ command_status: status }))));
    session.on('unbind', (pdu: smpp.PDU) => {
      this.failure ??= 'the SMSC unbound';
      session.send(pdu.response(), () => session.destroy());
    });
  }

  private bind(session: smpp.Session): void {
    if (this.session !== session) return;
    clearTimeout(this.stepTimer);
    session.socket.setNoDelay(true);
    this.phase = 'binding';
    const { systemId, password, systemType, requestTimeoutMs } = this.sender.options;
    this.stepTimer = setTimeout(() => this.drop(session, `no bind_transceiver_resp within ${requestTimeoutMs} ms`), requestTimeoutMs);
    session.bind_transceiver(
      { system_id: systemId, password, system_type: systemType ?? '', interface_version: INTERFACE_VERSION },
      (pdu) => {
        if (this.session !== session) return;
        clearTimeout(this.stepTimer);
        if (pdu.command_status !== 0) {
          const refused = classifySubmitStatus(pdu.command_status);
          this.log[refused.kind === 'unauthorized' ? 'error' : 'warn']({ status: statusName(pdu.command_status) }, 'smpp bind refused');
          return this.drop(session, `bind refused: ${statusName(pdu.command_status)}`);
        }
        this.phase = 'bound';
        this.attempts = 0;
        this.reason = null;
        this.lastEnquireAt = Date.now();
        this.enquirePendingSince = null;
        const { enquireLinkMs } = this.sender.options;
        this.watchdog = setInterval(() => this.tick(session), Math.max(20, Math.min(1_000, requestTimeoutMs / 4, enquireLinkMs / 2)));
        this.watchdog.unref();
        this.log.info('smpp bind up');
        this.attempted();
        this.sender.bindChanged();
      },
    );
  }

  /** Writes parts while the window has room: the current message's first, then the next waiting one's. */
  pump(): void {
    const session = this.session;
    if (this.phase !== 'bound' || !session) return;
    while (this.inFlight.size < this.sender.window && this.sender.hasRoom()) {
      if (!this.current || this.current.settled || this.current.next >= this.current.parts.length) {
        this.current = this.sender.takeNext();
        if (!this.current) return;
      }
      if (!this.write(session, this.current)) return;
    }
  }

  private write(session: smpp.Session, job: Submission): boolean {
    const part = job.next;
    const total = job.parts.length;
    const bytes = job.parts[part];
    // Herald's phones are international numbers without the plus (TON 1, NPI 1). The bytes
    // are already encoded (encodeForSmpp); a part of a longer text carries its user data
    // header and the UDH indicator (esm_class 0x40).
    const pdu = new SubmitSm({
      source: this.sender.sourceBytes,
      destination: job.message.phone.replace(/\D/g, ''),
      esmClass: total > 1 ? 0x40 : 0,
      registeredDelivery: this.sender.registeredDelivery,
      dataCoding: job.dataCoding,
      shortMessage: total > 1 ? Buffer.concat([concatenationHeader(job.reference, total, part + 1), bytes]) : bytes,
    });
    this.cork(session);
    const written = session.send(pdu, undefined, part === 0 ? () => job.markWritten() : undefined);
    if (!written) {
      // The socket is going away; its close answers what is in flight. A message none of
      // whose parts went out goes back to the queue, for this or another session.
      if (part === 0) {
        this.current = null;
        this.sender.giveBack(job);
      }
      this.drop(session, 'the connection is no longer writable');
      return false;
    }
    job.next++;
    this.inFlight.set(pdu.sequence_number, { job, part, sentAt: Date.now() });
    return true;
  }

  /**
   * The PDUs written in one turn of the event loop (a burst of answers frees a burst of window)
   * go out in one write instead of a system call each.
   */
  private cork(session: smpp.Session): void {
    if (this.corked) return;
    this.corked = true;
    session.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      session.socket.uncork();
    });
  }

  private onAnswer(session: smpp.Session, pdu: smpp.PDU): void {
    if (this.session !== session) return;
    const unanswered = this.inFlight.get(pdu.sequence_number);
    if (!unanswered) return;
    this.inFlight.delete(pdu.sequence_number);
    if (unanswered.job.settled) {
      this.log.debug({ messageId: unanswered.job.message.id, status: statusName(pdu.command_status) }, 'smpp answer after the message was given up');
    } else {
      unanswered.job.answer(unanswered.part, pdu.command_status, pdu.message_id);
    }
    if (unanswered.part > 0 && pdu.command_status === 0 && typeof pdu.message_id === 'string' && pdu.message_id !== '') this.sender.noteLaterPart(pdu.message_id);
    this.pump();
  }

  /**
   * Keep-alive and liveness. A submit_sm unanswered for a whole request timeout means the
   * session is stuck (or lost an answer): it is dropped and bound anew, which frees its
   * window without ever having more than `window` unanswered PDUs at the SMSC (Kannel's
   * default on a missing ack, too). An enquire_link unanswered as long does the same.
   */
  private tick(session: smpp.Session): void {
    if (this.session !== session || this.phase !== 'bound') return;
    const { requestTimeoutMs, enquireLinkMs } = this.sender.options;
    const now = Date.now();
    const oldest = this.inFlight.values().next().value as Unanswered | undefined;
    if (oldest && now - oldest.sentAt > requestTimeoutMs) return this.drop(session, `a submit_sm unanswered for ${requestTimeoutMs} ms`);
    if (this.enquirePendingSince !== null) {
      if (now - this.enquirePendingSince > requestTimeoutMs) this.drop(session, `no enquire_link_resp within ${requestTimeoutMs} ms`);
      return;
    }
    if (now - this.lastEnquireAt >= enquireLinkMs) {
      this.lastEnquireAt = now;
      this.enquirePendingSince = now;
      session.enquire_link();
    }
  }

  /** Ends a session for a reason (the first one given is kept); its close does the rest. */
  private drop(session: smpp.Session, reason: string): void {
    if (this.session !== session) return;
    this.failure ??= reason;
    session.destroy();
  }

  private onClose(session: smpp.Session): void {
    if (this.session !== session) return;
    this.session = null;
    clearTimeout(this.stepTimer);
    clearInterval(this.watchdog);
    const wasBound = this.phase === 'bound' || this.phase === 'closing';
    const reason = this.failure ?? (wasBound ? 'connection lost' : 'connection closed before the bind completed');
    // A PDU written and not answered may have reached the SMSC: ambiguous, never "not sent".
    const lost = `connection lost before submit_sm_resp (${reason}; it may have been delivered)`;
    for (const { job } of this.inFlight.values()) job.finish({ kind: 'retryable', error: lost, ambiguous: true });
    this.inFlight.clear();
    // The message whose parts were going out: ambiguous once its first part was written.
    if (this.current && this.current.next > 0) this.current.finish({ kind: 'retryable', error: lost, ambiguous: true });
    else if (this.current && this.phase === 'closing') this.current.finish({ kind: 'retryable', error: `${reason} (never sent)` });
    else if (this.current) this.sender.giveBack(this.current);
    this.current = null;
    if (this.phase === 'closing') {
      this.attempted();
      this.phase = 'closed';
      this.onClosed?.();
      return;
    }
    this.phase = 'idle';
    this.failed(reason, wasBound);
  }

  /** Not bound, for a reason: says so, and tries again after a backoff. */
  private failed(reason: string, wasBound: boolean): void {
    this.reason = reason;
    this.attempted();
    const { reconnectMinMs, reconnectMaxMs } = this.sender.options;
    const delay = retryDelay(++this.attempts, reconnectMinMs, reconnectMaxMs);
    this.log.warn({ reason, attempt: this.attempts, retryInMs: delay }, wasBound ? 'smpp bind down' : 'smpp bind failed');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.sender.bindChanged();
  }

  /** Unbinds (when bound), waits briefly for unbind_resp, and closes the connection. */
  async close(): Promise<void> {
    clearTimeout(this.reconnectTimer);
    const session = this.session;
    if (!session) {
      this.phase = 'closed';
      return;
    }
    const closed = new Promise<void>((resolve) => (this.onClosed = resolve));
    if (this.phase === 'bound') {
      this.phase = 'closing';
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(UNBIND_WAIT_MS, this.sender.options.requestTimeoutMs));
        const sent = session.unbind({}, () => {
          clearTimeout(timer);
          resolve();
        });
        if (!sent) {
          clearTimeout(timer);
          resolve();
        }
      });
    } else {
      this.phase = 'closing';
    }
    this.failure ??= 'closed';
    session.destroy();
    await closed;
  }
}

/** A message answered before it went anywhere. */
function answered(outcome: SendOutcome, observed: ((result: SendOutcome['kind']) => void) | undefined): Sending {
  observed?.(outcome.kind);
  return { written: Promise.resolve(), outcome: Promise.resolve(outcome) };
}

/**
 * TON/NPI of a sender address: letters make it alphanumeric (TON 5, NPI 0); a number with a
 * plus or of 10 digits and more is international (1, 1, E.164); a shorter number is a
 * short code (TON 3 network-specific, NPI 0). SMSCs differ: sourceAddrTon/Npi override.
 */
export function sourceAddressOf(address: string): { ton: number; npi: number } {
  if (!/^\+?\d+$/.test(address)) return { ton: 5, npi: 0 };
  if (address.startsWith('+') || address.length >= 10) return { ton: 1, npi: 1 };
  return { ton: 3, npi: 0 };
}

function describeSocketError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (e.code) return `connection failed: ${e.code}`;
  return `session error: ${e.message ?? String(error)}`;
}
