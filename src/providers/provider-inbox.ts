/**
 * What providers hand Herald besides answers to its sends: delivery receipts and replies
 * (SMPP deliver_sm on a bind, or a provider's POST to /providers/<name>/receipts and
 * /providers/<name>/inbound). The adapters and routes that receive them call this port; the
 * receipts capability (src/receipts) and the inbound capability (src/inbound) implement it,
 * wired in main.ts. Adapters know nothing of what Herald does with them.
 */

/** A provider's word on a message it accepted. */
export type Receipt = {
  /** the id the provider gave the message (SMPP message_id), or for HTTP the id Herald sent it under */
  providerMessageId: string;
  /** DELIVERED: it reached the phone; UNDELIVERED: it did not (error says why) */
  status: 'DELIVERED' | 'UNDELIVERED';
  /** for UNDELIVERED: why, as the provider said it, e.g. "UNDELIV err:034", "expired" */
  error: string | null;
  /** the receipt's own time when it gave one, else null (then: when it came) */
  at: Date | null;
};

/** What became of a receipt. */
export type ReceiptResult =
  /** the message moved to the receipt's status, or had it already (receipts are idempotent) */
  | 'applied'
  /** kept until its message is recorded as SENT (it came first), then applied */
  | 'parked'
  /** no message of this provider has or may get this id */
  | 'unknown';

/** A message a phone sent (a reply). */
export type Reply = {
  /** the phone, 7XXXXXXXXXX */
  from: string;
  text: string;
  /** the provider's time of it when given, else null */
  at: Date | null;
};

export interface ProviderInbox {
  /** Applies receipts of `provider`, in one transaction; one result per receipt, in order. */
  receipts(provider: string, receipts: readonly Receipt[]): Promise<ReceiptResult[]>;
  /** Keeps a reply of `provider` (and acts on an opt-out or opt-in keyword). */
  reply(provider: string, reply: Reply): Promise<void>;
}
