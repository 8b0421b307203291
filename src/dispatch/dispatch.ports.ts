import type { FrequencyCap } from '../mailings/frequency-cap';
import type { MailingStatus } from '../mailings/mailing.table';
import type { SendWindow } from '../mailings/send-window';
import type { Recipient, ResultRow } from '../messages/message.store';

export type { Recipient, ResultRow };

/**
 * What the dispatch engine needs from the world, and nothing more (as listmonk's campaign
 * manager declares its DataSource and Messenger): a claim store that hands out messages
 * under leases and commits their results (dispatch/claim.store.ts on PostgreSQL), a sending
 * outbox that sends one message through a provider of its route and says what came of it
 * (providers/provider.router.ts over the providers, each a Sender), the mailing lifecycle's two reactions to results,
 * and the database's clock. main.ts plugs the adapters in; the engine knows none of them.
 */

// ---- the sending ports: one provider, and the outbox that routes among them -------------

export type OutgoingMessage = { id: number; phone: string; text: string };

/**
 * What one request came to. Each adapter maps every answer (or non-answer) of its provider
 * to exactly one of these, in one place (gateway/gateway.outcome.ts for HTTP,
 * providers/smpp.outcome.ts for SMPP):
 * - sent: accepted;
 * - rejected: the message itself is bad; retrying will not help;
 * - unauthorized: the provider refuses Herald itself; stop using it until it works;
 * - throttled: wait (as long as the provider says, when it says);
 * - retryable: anything else that may work later (5xx, timeouts, dropped connections,
 *   answers that are not the documented ones). `ambiguous` when the request went out and
 *   no clear answer came back (a timeout after it was written, a connection lost after it,
 *   an acceptance that could not be read): it may have been delivered, so it may be tried
 *   again only through the same provider, under the same message id.
 */
export type SendOutcome =
  | { kind: 'sent'; /** the provider's id of the message (SMPP: the first part's message_id), when it gives one */ providerMessageId?: string }
  | { kind: 'rejected'; error: string }
  | { kind: 'unauthorized'; error: string }
  | { kind: 'throttled'; error: string; retryAfterMs: number | null }
  | { kind: 'retryable'; error: string; ambiguous?: boolean };

/** One request under way: when it has been written out, and what it came to. */
export type Sending = {
  /** resolves once the request is on the wire (or has failed before getting there) */
  written: Promise<void>;
  outcome: Promise<SendOutcome>;
};

/** One SMS provider, whatever it speaks (gateway/gateway.client.ts, providers/smpp.client.ts). */
export interface Sender {
  /** Sends one message; it must be answered by `deadline` (ms since the epoch, local clock). */
  send(message: OutgoingMessage, deadline: number): Sending;
  close(): Promise<void>;
}

/** A message for the outbox: what routes it, and the provider an ambiguous answer pinned it to. */
export type RoutedMessage = OutgoingMessage & {
  /** its client's mobile operator code (null: the client left; the catch-all route) */
  operatorCode: string | null;
  /** set once a provider took it (or may have): only that one may try it again */
  provider: string | null;
  /** its mailing (none for a test send): which providers a mailing's messages go to sizes its claims */
  mailingId?: number;
};

/**
 * What the outbox made of a message: a provider's outcome, or `deferred` when no provider
 * of its route could take it now (none was asked: no attempt). `provider` names the
 * provider that took it or may have (sent, rejected, or an ambiguous failure), else null.
 */
export type Delivery = {
  outcome: SendOutcome | { kind: 'deferred'; error: string; retryAfterMs: number };
  provider: string | null;
  /** the last provider asked (or waited for), for the log line; null when none was */
  via: string | null;
  /** the longest a retry should wait (null: no cap): short while the provider asked last is failing as a whole, so that sending resumes soon after it recovers */
  retryCapMs: number | null;
};

export type RoutedSending = { written: Promise<void>; delivery: Promise<Delivery> };

/**
 * The providers as the engine sees them (providers/provider.router.ts): how many messages
 * may start now, and one message sent through whichever provider of its route can take it.
 * The engine does not know which providers, or which kinds of them, there are.
 */
export interface Outbox {
  /** how many of `wanted` messages of this mailing may start now, over the providers its messages go to */
  permits(wanted: number, now: number, mailingId?: number): number;
  /** ms until a message may start again, when none may now */
  waitMs(now: number): number;
  send(message: RoutedMessage, deadline: number): RoutedSending;
  /** null when sending works; else why it cannot, for /readyz */
  problem(): string | null;
  close(): Promise<void>;
}

// ---- the claim store ---------------------------------------------------------------------

/** What sending a mailing's messages needs from it, read by a claim under its lock. */
export type MailingForClaim = {
  id: number;
  status: MailingStatus;
  text: string;
  endAt: number;
  sendWindow: SendWindow | null;
  /** its own cap (null: the configured one, if any) */
  frequencyCap: FrequencyCap | null;
  /** the database's clock when it was read (ms) */
  now: number;
};

/** A message handed to the engine by a claim: a first attempt (under a lease) or a retry (it has a row). */
export type Claimed = Recipient & {
  id: number;
  mailingId: number;
  clientId: number;
  phone: string;
  timezone: string;
  /** attempts made before this one */
  attempts: number;
  /** the lease it was handed out under (a first attempt), or null (it has a row) */
  leaseId: number | null;
  /** the provider an earlier ambiguous answer pinned it to (a retry), else null */
  provider: string | null;
};

export type ClaimRequest = {
  mailingId: number;
  /** messages at most */
  limit: number;
  /** whether to look for a lease of a vanished process to take over (a scan, so not at every claim) */
  takeOverOrphans: boolean;
  /** whether to look for messages with rows that are due (retries, send windows opened) */
  takeDue: boolean;
};

/** The claim's transaction, for what must happen inside it. */
export interface ClaimTx {
  /** of these messages to clients under a frequency cap, the ones that may go (their places taken) */
  reserveUnderCap(messages: readonly Claimed[], cap: { count: number; windowS: number }): Promise<Set<number>>;
}

/**
 * Starts the requests of a claim; resolves once every one is on the wire. The claim
 * commits after it resolves, so that a pause, cancel or delete (which waits for the
 * mailing's lock) returns only after those requests started and before any later one.
 */
export type Launch = (mailing: MailingForClaim, messages: Claimed[], tx: ClaimTx) => Promise<void>;

export type ClaimOutcome =
  /** the mailing is gone, or not sending now (mailing.transitions' sendsAt: running, before its endAt) */
  | { kind: 'refused' }
  | {
      kind: 'claimed';
      count: number;
      /** nothing of the audience was handed out because another claim holds it */
      audienceBusy: boolean;
      /** whether it looked for a lease of a vanished process (it had room left) */
      orphansScanned: boolean;
      /** of `count`, the due messages with rows it took (0 when it did not look) */
      dueCount: number;
      /** with nothing claimed: when the mailing's next retry comes due (database ms), if any */
      nextDueAt: number | null;
      /** the database's clock at the claim (ms) */
      now: number;
    };

/** A running mailing whose last results failed more than its threshold allows. */
export type FailingMailing = { mailingId: number; failureRate: number; threshold: number };

export type ResultBatch = {
  /** the results, each with whether it holds a place under a frequency cap */
  results: readonly { row: ResultRow; capped: boolean }[];
  /** leases whose every message now has a result */
  releasedLeases: readonly number[];
  /** how a mailing's failure rate is judged: over its last `window` results, at least `minResults` of them, against its own threshold or `defaultRate` */
  failureRate: { window: number; minResults: number; defaultRate: number };
};

/** What a commit of results wrote (settled by their mailings' statuses) and which mailings now fail too often. */
export type CommittedResults = { written: ResultRow[]; failing: FailingMailing[] };

export interface ClaimStore {
  /** whose leases these are: this process's dispatcher */
  readonly owner: string;
  /** the running mailings, oldest first */
  runningMailings(): Promise<number[]>;
  /** one claim of up to `limit` messages of a mailing, in one transaction around `launch` */
  claim(request: ClaimRequest, launch: Launch): Promise<ClaimOutcome>;
  /** one transaction that writes results as their mailings' statuses now allow */
  commitResults(batch: ResultBatch): Promise<CommittedResults>;
  /** at a stop: this owner's leases and these claimed retries, free for anyone at once */
  giveBack(retryIds: readonly number[]): Promise<void>;
}

// ---- the lifecycle and the clock ---------------------------------------------------------

/** What the engine asks of the mailing lifecycle after results are committed. */
export interface MailingControl {
  /** a running mailing whose last results fail too often pauses itself, saying why */
  autoPause(mailingId: number, reason: string): Promise<unknown>;
  /** of these mailings, the running ones whose every message is final complete */
  completeFinished(mailingIds: readonly number[]): Promise<unknown>;
}

/** The database's clock, on which the end-time rule is judged (db/clock.ts). */
export interface Clock {
  now(): number;
}
