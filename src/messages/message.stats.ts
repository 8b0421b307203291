import { MESSAGE_STATUSES, type MessageStatus } from './message.table';

export type StatusCounts = Partial<Record<MessageStatus, number>>;

export type MessageStatsValue = {
  total: number;
  pending: number;
  /** every message a provider accepted: SENT, DELIVERED and UNDELIVERED */
  sent: number;
  failed: number;
  expired: number;
  cancelled: number;
  skipped: number;
  delivered: number;
  undelivered: number;
  /** SENT with no receipt yet */
  awaitingReceipt: number;
  /** delivered / (delivered + undelivered); null when neither */
  deliveryRate: number | null;
  byStatus: { status: MessageStatus; count: number }[];
};

/**
 * Counts by status as the statistics users read. `sent` keeps counting every message a
 * provider accepted (its receipt moves it on to DELIVERED or UNDELIVERED, and a count built
 * on `sent` must not go backwards when receipts come); `awaitingReceipt` is what has none yet.
 */
export function toMessageStats(counts: StatusCounts): MessageStatsValue {
  const byStatus = MESSAGE_STATUSES.map((status) => ({ status, count: counts[status] ?? 0 }));
  const delivered = counts.DELIVERED ?? 0;
  const undelivered = counts.UNDELIVERED ?? 0;
  const awaitingReceipt = counts.SENT ?? 0;
  return {
    total: byStatus.reduce((sum, s) => sum + s.count, 0),
    pending: counts.PENDING ?? 0,
    sent: awaitingReceipt + delivered + undelivered,
    failed: counts.FAILED ?? 0,
    expired: counts.EXPIRED ?? 0,
    cancelled: counts.CANCELLED ?? 0,
    skipped: counts.SKIPPED ?? 0,
    delivered,
    undelivered,
    awaitingReceipt,
    deliveryRate: delivered + undelivered === 0 ? null : delivered / (delivered + undelivered),
    byStatus,
  };
}
