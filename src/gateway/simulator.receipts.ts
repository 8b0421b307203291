/**
 * What the simulators (HTTP gateway and SMSC) report after accepting a message: a delivery
 * receipt after a delay, delivered for a share of messages and undelivered, expired or
 * rejected for the rest, as a carrier would. Both simulators draw from here so that the two
 * tell the same story; each sends it in its own protocol.
 */
export type ReceiptOutcome = 'delivered' | 'undelivered' | 'expired' | 'rejected';

export type ReceiptBehaviour = {
  /** send receipts at all */
  receipts: boolean;
  /** share of accepted messages reported delivered, 0 to 1 */
  deliveredRate: number;
  /** how the rest is split: relative weights of undelivered, expired and rejected */
  failureShares: { undelivered: number; expired: number; rejected: number };
  /** a receipt follows its message after this many ms; [min, max] picks uniformly */
  receiptDelayMs: number | [number, number];
};

export const DEFAULT_RECEIPT_BEHAVIOUR: ReceiptBehaviour = {
  receipts: false,
  deliveredRate: 0.9,
  failureShares: { undelivered: 0.6, expired: 0.3, rejected: 0.1 },
  receiptDelayMs: [200, 2_000],
};

/** How each outcome reads in an SMPP receipt (stat, err, message_state) and an HTTP one's `error`. */
export const RECEIPT_CODES: Record<ReceiptOutcome, { stat: string; err: string; messageState: number }> = {
  delivered: { stat: 'DELIVRD', err: '000', messageState: 2 },
  undelivered: { stat: 'UNDELIV', err: '034', messageState: 5 },
  expired: { stat: 'EXPIRED', err: '027', messageState: 3 },
  rejected: { stat: 'REJECTD', err: '088', messageState: 8 },
};

/** The error text an undelivered receipt carries (`UNDELIV err:034`); none for delivered. */
export const receiptError = (outcome: ReceiptOutcome): string | undefined =>
  outcome === 'delivered' ? undefined : `${RECEIPT_CODES[outcome].stat} err:${RECEIPT_CODES[outcome].err}`;

export function pickOutcome(b: ReceiptBehaviour, random = Math.random): ReceiptOutcome {
  if (random() < b.deliveredRate) return 'delivered';
  const { undelivered, expired, rejected } = b.failureShares;
  const total = undelivered + expired + rejected;
  if (total <= 0) return 'undelivered';
  const r = random() * total;
  return r < undelivered ? 'undelivered' : r < undelivered + expired ? 'expired' : 'rejected';
}

export function receiptDelay(b: ReceiptBehaviour): number {
  const d = b.receiptDelayMs;
  return Array.isArray(d) ? d[0] + Math.random() * (d[1] - d[0]) : d;
}

/** Checks a change to the receipt fields (from a control endpoint or the command line): the problem, or null. */
export function receiptProblem(change: Partial<ReceiptBehaviour>): string | null {
  const share = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
  if (change.receipts !== undefined && typeof change.receipts !== 'boolean') return 'receipts must be true or false';
  if (change.deliveredRate !== undefined && !share(change.deliveredRate)) return 'deliveredRate must be a number from 0 to 1';
  if (change.failureShares !== undefined) {
    const f = change.failureShares as Record<string, unknown>;
    if (typeof f !== 'object' || f === null || !['undelivered', 'expired', 'rejected'].every((k) => typeof f[k] === 'number' && (f[k] as number) >= 0)) {
      return 'failureShares must be {"undelivered", "expired", "rejected"}, each a number ≥ 0';
    }
  }
  const d = change.receiptDelayMs;
  if (d !== undefined) {
    const ok = typeof d === 'number' ? d >= 0 : Array.isArray(d) && d.length === 2 && d.every((x) => typeof x === 'number' && x >= 0) && d[0] <= d[1];
    if (!ok) return 'receiptDelayMs must be a number of ms or [min, max] with min ≤ max';
  }
  return null;
}

/** `200` or `200-2000` (a uniform range), as the command line and SENDER_SIMULATOR_RECEIPT_DELAY_MS write it. */
export function parseDelay(value: string): number | [number, number] | null {
  const m = /^(\d+)(?:(?:-|\.\.)(\d+))?$/.exec(value.trim());
  if (!m) return null;
  const min = Number(m[1]);
  if (m[2] === undefined) return min;
  const max = Number(m[2]);
  return min <= max ? [min, max] : null;
}
