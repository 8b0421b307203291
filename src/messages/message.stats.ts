import { MESSAGE_STATUSES, type MessageStatus } from './message.table';

export type StatusCounts = Partial<Record<MessageStatus, number>>;

export type MessageStatsValue = {
  total: number;
  pending: number;
  sent: number;
  failed: number;
  expired: number;
  cancelled: number;
  skipped: number;
  byStatus: { status: MessageStatus; count: number }[];
};

export function toMessageStats(counts: StatusCounts): MessageStatsValue {
  const byStatus = MESSAGE_STATUSES.map((status) => ({ status, count: counts[status] ?? 0 }));
  return {
    total: byStatus.reduce((sum, s) => sum + s.count, 0),
    pending: counts.PENDING ?? 0,
    sent: counts.SENT ?? 0,
    failed: counts.FAILED ?? 0,
    expired: counts.EXPIRED ?? 0,
    cancelled: counts.CANCELLED ?? 0,
    skipped: counts.SKIPPED ?? 0,
    byStatus,
  };
}
