import { logRepeated, type Logger } from '../logger';
import { requestDeadline } from '../mailings/end-time';
import { capOf, FAILURE_MIN_RESULTS, FAILURE_WINDOW, type CampaignRules } from '../mailings/campaign.rules';
import { parseTemplate, render, type Template } from '../mailings/mailing.template';
import type { Claimed, ClaimStore, ClaimTx, Clock, Delivery, FailingMailing, MailingControl, MailingForClaim, Outbox, ResultRow } from './dispatch.ports';
import { fateAfter, fateBeforeSending, SKIPPED_OVER_CAP, type Fate, type RetryPolicy } from './message.fate';
import { MAX_BATCH, ResultWriter } from './result-writer';

/** What the dispatcher works with: main.ts plugs the adapters into these ports. */
export type DispatcherPorts = {
  store: ClaimStore;
  outbox: Outbox;
  mailings: MailingControl;
  clock: Clock;
  log: Logger;
};

export type DispatcherOptions = {
  /** requests in flight at most */
  concurrency: number;
  /** messages one claim takes at most */
  batchSize: number;
  /** how often an idle dispatcher looks for work */
  pollMs: number;
  /** results are committed at most this long after their answer */
  flushMs: number;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  /** the configured frequency cap and failure threshold, for mailings without their own */
  rules: CampaignRules;
  /** told each committed result once (metrics) */
  onResults?: (rows: readonly ResultRow[]) => void;
};

/** A message on its way: claimed, not yet answered. */
type Work = Claimed & {
  /** whether it holds a place under a frequency cap (given back unless it ends SENT) */
  capped: boolean;
};

/** After claiming nothing of a mailing, look at it again this much later at most. */
const BUSY_RETRY_MS = 5;
/** Leases of vanished dispatchers are looked for this often per mailing. */
const ORPHAN_SCAN_MS = 1_000;
/**
 * While a mailing's audience is being handed out, its due retries are looked for this often,
 * not at every claim: the look is a statement on the messages table planned afresh each time
 * (0.46 ms of PostgreSQL a claim that found nothing, 2 µs a message at 185 a claim). A retry
 * so goes out up to this much after it is due. Once a look finds some, or the audience has
 * nothing left to give, every claim looks.
 */
const DUE_SCAN_MS = 100;

/**
 * Sends the messages of running mailings through the gateway, each request in a slot of its
 * own: up to `concurrency` are in flight, and the moment one ends its slot can be filled by
 * the next claim, whatever the others are doing. No transaction stays open across a
 * request. A claim is one short transaction, under the mailing's shared lock: it takes a
 * lease on what it hands out (audience members get a lease row and their message ids; a
 * retry's row gets its next attempt moved on), starts each request, waits until every one
 * is on the wire, and commits — so a pause, cancel or delete, which takes the mailing's
 * exclusive lock, returns only after those requests started and before any later one.
 * Results are committed in groups every `flushMs` (ResultWriter). A process that dies loses
 * its leases to another process after `leaseMs`, which sends what has no result yet under
 * the same message ids: at most what was in flight or answered in the last flush interval.
 */
export class Dispatcher {
  private readonly store: ClaimStore;
  private readonly outbox: Outbox;
  private readonly mailings: MailingControl;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly writer: ResultWriter;
  private inFlight = 0;
  /** retries in flight, whose lease (next_attempt_at) is given back at a stop */
  private readonly inFlightRetries = new Set<number>();
  private running: number[] = [];
  private runningReadAt = 0;
  private turn = 0;
  /** per mailing: not worth a claim before this local time */
  private readonly notBefore = new Map<number, number>();
  private readonly orphansScannedAt = new Map<number, number>();
  /** per mailing: when its due retries were last looked for, and whether the next claim must look again */
  private readonly dueScan = new Map<number, { at: number; again: boolean }>();
  private readonly templates = new Map<string, Template>();
  private stopped = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeLoop: (() => void) | null = null;
  private idle: (() => void) | null = null;

  constructor(
    ports: DispatcherPorts,
    private readonly options: DispatcherOptions,
  ) {
    ({ store: this.store, outbox: this.outbox, mailings: this.mailings, clock: this.clock, log: this.log } = ports);
    const failureRate = { window: FAILURE_WINDOW, minResults: FAILURE_MIN_RESULTS, defaultRate: options.rules.maxFailureRate };
    this.writer = new ResultWriter(this.store, ports.log, options.flushMs, failureRate, (ids, failing) => {
      // A loop held back by the backlog goes on at once, not at its next poll.
      this.wakeLoop?.();
      void this.afterCommit(ids, failing);
    }, options.onResults);
  }

  private get backlogCap(): number {
    return Math.max(4 * this.options.concurrency, MAX_BATCH);
  }

  start(): void {
    this.loopDone = this.loop();
  }

  /** Look for work now (a mailing started or resumed). */
  nudge(): void {
    this.runningReadAt = 0;
    this.notBefore.clear();
    this.wakeLoop?.();
  }

  /** null when sending works; else why not, for /readyz. */
  problem(): string | null {
    return this.outbox.problem();
  }

  /**
   * Stops claiming, lets requests in flight finish (up to `graceMs`), writes every result,
   * and gives back at once what is still unanswered, for another process to send.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopped = true;
    this.wakeLoop?.();
    await this.loopDone;
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await this.writer.drain();
    if (this.inFlight > 0 || this.writer.openLeases > 0) await this.store.giveBack([...this.inFlightRetries]);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const free = this.options.concurrency - this.inFlight;
        // Results that cannot be written (the database is away) stop new claims too, until
        // they are: a claim could otherwise take over this process's own lease, expired
        // during the outage, and send again what is answered but not yet written. So does a
        // backlog of more than a group commit (or four rounds of the slots), until the next
        // commit wakes the loop. (A backlog of 4 × 50 slots, reached within a flush interval
        // at a few thousand msg/s, then slept a whole DISPATCH_POLL_MS, 200 ms: with its
        // defaults Herald sent 1,567 msg/s to a 1–2 ms gateway, 2,367 after this.)
        if (free <= 0 || this.writer.backlog > this.backlogCap || this.writer.failing) {
          await this.sleep(this.options.pollMs);
          continue;
        }
        const now = Date.now();
        // A mailing with work first, then the providers: asking them what they can take is
        // what makes a shared rate reserve its parts, which an idle process must not do.
        const next = await this.nextMailing(now);
        if (next === null) {
          await this.sleep(this.options.pollMs);
          continue;
        }
        const allowed = this.outbox.permits(Math.min(free, this.options.batchSize), Date.now(), next.id);
        if (allowed <= 0) {
          // Its turn is not used up: the same mailing comes first once a provider has room.
          await this.sleep(Math.max(1, Math.min(this.outbox.waitMs(Date.now()), this.options.pollMs)));
          continue;
        }
        this.turn = next.turnAfter;
        await this.claim(next.id, allowed);
      } catch (err) {
        logRepeated(this.log, 'error', { err }, 'a dispatch claim failed');
        await this.sleep(1_000);
      }
    }
  }

  /** The next running mailing in turn that may have work, and where the turn goes once it is claimed from. */
  private async nextMailing(now: number): Promise<{ id: number; turnAfter: number } | null> {
    if (now - this.runningReadAt >= this.options.pollMs) {
      this.running = await this.store.runningMailings();
      this.runningReadAt = now;
      const running = new Set(this.running);
      for (const id of this.notBefore.keys()) if (!running.has(id)) this.notBefore.delete(id);
      for (const id of this.dueScan.keys()) if (!running.has(id)) this.dueScan.delete(id);
    }
    for (let i = 0; i < this.running.length; i++) {
      const id = this.running[(this.turn + i) % this.running.length];
      if ((this.notBefore.get(id) ?? 0) <= now) return { id, turnAfter: (this.turn + i + 1) % this.running.length };
    }
    return null;
  }

  /** One claim of up to `limit` messages of a mailing; every request it starts is on the wire when it commits. */
  private async claim(mailingId: number, limit: number): Promise<void> {
    const sentAt = Date.now();
    const takeOverOrphans = sentAt - (this.orphansScannedAt.get(mailingId) ?? 0) >= ORPHAN_SCAN_MS;
    const lastDueScan = this.dueScan.get(mailingId);
    const takeDue = !lastDueScan || lastDueScan.again || sentAt - lastDueScan.at >= DUE_SCAN_MS;
    const outcome = await this.store.claim(
      { mailingId, limit, takeOverOrphans, takeDue },
      (mailing, claimed, tx) => this.settleAndLaunch(tx, this.track(claimed), mailing),
    );
    if (outcome.kind === 'claimed' && outcome.orphansScanned) this.orphansScannedAt.set(mailingId, sentAt);
    // Look again at the next claim while retries are found, or when nothing but retries came.
    if (outcome.kind === 'claimed') {
      if (takeDue) this.dueScan.set(mailingId, { at: sentAt, again: outcome.dueCount > 0 || outcome.count === outcome.dueCount });
      else if (outcome.count === 0) this.dueScan.set(mailingId, { at: lastDueScan!.at, again: true });
    }
    if (outcome.kind === 'refused') {
      this.notBefore.set(mailingId, Date.now() + this.options.pollMs); // gone, or not running after all
    } else if (outcome.count === 0) {
      // Nothing now: another process holds the audience (look again soon), or the mailing
      // waits for its next retry (or for its last results, which complete it).
      const next = outcome.nextDueAt;
      const wait = outcome.audienceBusy ? BUSY_RETRY_MS : next === null ? this.options.pollMs : Math.min(this.options.pollMs, Math.max(BUSY_RETRY_MS, next - outcome.now));
      this.notBefore.set(mailingId, Date.now() + wait);
    }
  }

  /** A claim's messages as work; the messages of each lease are counted, so that it goes once each has a result. */
  private track(claimed: Claimed[]): Work[] {
    const leases = new Map<number, number>();
    for (const m of claimed) if (m.leaseId !== null) leases.set(m.leaseId, (leases.get(m.leaseId) ?? 0) + 1);
    for (const [leaseId, count] of leases) this.writer.trackLease(leaseId, count);
    return claimed.map((m) => ({ ...m, capped: false }));
  }

  /**
   * Decides what of a claim goes out: a message whose phone opted out is skipped, one outside
   * its send window waits, one too late expires, one whose client is over its frequency cap
   * is skipped (the places under the cap are taken in this transaction); the rest are sent.
   * Resolves once every request is on the wire.
   */
  private async settleAndLaunch(tx: ClaimTx, work: Work[], mailing: MailingForClaim): Promise<void> {
    const now = this.clock.now();
    const toSend: Work[] = [];
    for (const w of work) {
      const before = fateBeforeSending(now, mailing.endAt, w.timezone, mailing.sendWindow, w.optedOut);
      if (before) this.settle(w, before, now);
      else toSend.push(w);
    }
    const cap = capOf(mailing.frequencyCap, this.options.rules);
    let allowed: Set<number> | null = null;
    if (cap && toSend.length > 0) allowed = await tx.reserveUnderCap(toSend, cap);
    const template = this.templateOf(mailing.text);
    const written: Promise<void>[] = [];
    for (const w of toSend) {
      if (allowed && !allowed.has(w.id)) {
        this.settle(w, SKIPPED_OVER_CAP, now);
        continue;
      }
      w.capped = allowed !== null;
      written.push(this.launch(w, mailing, render(template, w)));
    }
    await Promise.all(written);
  }

  /** A message that goes out with no request: skipped, waiting for its window, or expired. */
  private settle(work: Work, fate: Fate, now: number): void {
    const ids = { mailingId: work.mailingId, messageId: work.id, clientId: work.clientId };
    if (fate.status === 'PENDING') this.log.debug({ ...ids, until: new Date(fate.nextAttemptAt).toISOString() }, 'message waits for its send window');
    else this.log.info({ ...ids, outcome: fate.status.toLowerCase(), error: fate.error }, fate.status === 'SKIPPED' ? 'message skipped' : 'message expired');
    this.writer.add(this.resultOf(work, fate, false, now, null), work.leaseId, work.capped);
  }

  /** A mailing's text parsed once (it is checked at create and update, so it parses). */
  private templateOf(text: string): Template {
    let template = this.templates.get(text);
    if (!template) {
      if (this.templates.size >= 100) this.templates.clear();
      template = parseTemplate(text);
      this.templates.set(text, template);
    }
    return template;
  }

  /** Starts one message's request; resolves once it is on the wire. */
  private launch(work: Work, mailing: MailingForClaim, text: string): Promise<void> {
    const now = this.clock.now();
    this.inFlight++;
    if (work.leaseId === null) this.inFlightRetries.add(work.id);
    const started = performance.now();
    // The deadline is judged on the database's clock and handed to the gateway client on ours.
    const deadline = requestDeadline(mailing.endAt, now, this.options.requestTimeoutMs) - (now - Date.now());
    const sending = this.outbox.send({ id: work.id, phone: work.phone, text, operatorCode: work.operatorCode, provider: work.provider, mailingId: work.mailingId }, deadline);
    sending.delivery.then(
      (delivery) => this.finish(work, mailing.endAt, delivery, started, text),
      (err) => this.finish(work, mailing.endAt, { outcome: { kind: 'retryable', error: `request failed: ${String(err)}` }, provider: null, via: null, retryCapMs: null }, started, text),
    );
    return sending.written;
  }

  private finish(work: Work, endAt: number, delivery: Delivery, started: number, text: string): void {
    this.inFlight--;
    this.inFlightRetries.delete(work.id);
    const now = this.clock.now();
    const { outcome } = delivery;
    // A message no provider could take now was not attempted: its attempts stay as they are.
    const attempted = outcome.kind !== 'deferred';
    const attempt = work.attempts + (attempted ? 1 : 0);
    const fate = fateAfter(outcome, attempt, now, endAt, this.options.retry, delivery.retryCapMs);
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    // The ids go into each line as plain fields: a child logger per message cost more than the line.
    const ids = { mailingId: work.mailingId, messageId: work.id, clientId: work.clientId, provider: delivery.via ?? delivery.provider ?? work.provider ?? undefined };
    if (outcome.kind === 'sent') {
      this.log.info({ ...ids, attempt, outcome: outcome.kind, durationMs }, 'message sent');
    } else {
      const retryAt = fate.nextAttemptAt === null ? undefined : new Date(fate.nextAttemptAt).toISOString();
      const line = { ...ids, attempt, outcome: outcome.kind, durationMs, error: outcome.error, status: fate.status, retryAt };
      if (attempted) this.log.warn(line, 'message not sent');
      else this.log.debug(line, 'message waits for a provider');
    }
    const row = this.resultOf(work, fate, attempted, now, text);
    row.provider = delivery.provider;
    row.providerMessageId = outcome.kind === 'sent' ? (outcome.providerMessageId ?? null) : null;
    this.writer.add(row, work.leaseId, work.capped);
    if (this.inFlight === 0) this.idle?.();
    this.wakeLoop?.();
  }

  private resultOf(work: Work, fate: Fate, attempted: boolean, at: number, text: string | null): ResultRow {
    return {
      id: work.id,
      mailingId: work.mailingId,
      clientId: work.clientId,
      phone: work.phone,
      timezone: work.timezone,
      status: fate.status,
      attempted,
      error: fate.error,
      text,
      nextAttemptAt: fate.nextAttemptAt,
      at,
      provider: null,
      providerMessageId: null,
      // A retry is claimed from its row; a member handed out under a lease has none yet.
      hadRow: work.leaseId === null,
    };
  }

  /** After results are committed: mailings whose last results fail too often pause; finished ones complete. */
  private async afterCommit(mailingIds: number[], failing: FailingMailing[]): Promise<void> {
    try {
      for (const f of failing) {
        const reason = `${Math.round(f.failureRate * 100)}% of its last results failed (more than ${Math.round(f.threshold * 100)}%)`;
        await this.mailings.autoPause(f.mailingId, reason);
      }
      await this.mailings.completeFinished(mailingIds);
    } catch (err) {
      logRepeated(this.log, 'error', { err, mailingIds }, 'checking whether mailings are complete failed');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      this.wakeLoop = done;
      function done() {
        clearTimeout(timer);
        if (self.wakeLoop === done) self.wakeLoop = null;
        resolve();
      }
    });
  }
}
