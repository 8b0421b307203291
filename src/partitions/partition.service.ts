import type { Db } from '../db/connection';
import type { Logger } from '../logger';
import { archivePartition, type ArchivedMailing } from './partition.archive';
import {
  createPartitions,
  detachPartition,
  dropDetached,
  firstMailingCreatedAt,
  fromOfName,
  highestMailingIdIn,
  isPrunable,
  listDetached,
  listPartitions,
  mailingsWithRows,
  moveMailingIdsTo,
  nextMailingId,
  rangeHasUnfinishedMailings,
  type MessagePartition,
} from './partition.store';

/**
 * What becomes of the messages table's partitions (docs/retention.md): each holds a range of
 * mailing ids; the range of the next mailing id is the open one, and one more range after it
 * always exists, so that no write waits for a partition to be made. A partition takes new
 * mailings for `periodMs`, then the mailings' id sequence moves on to the next range's first
 * id (mailing ids have gaps there): so a partition holds the mailings of about one period, and
 * drops with them. With a retention, a closed partition whose started mailings all ended more
 * than `retentionMs` ago is archived (with `archiveDir`) and dropped.
 */
export type PartitionOptions = {
  periodMs: number;
  /** mailing ids in a range */
  mailings: number;
  retentionMs: number | null;
  archiveDir: string | null;
};

export type DroppedPartition = MessagePartition & { rows: number; mailings: number; archived: ArchivedMailing[] | null };
export type PartitionRun = { created: MessagePartition[]; turned: boolean; dropped: DroppedPartition[] };

// Ranges kept after the open one: a new mailing always has its partition already.
const AHEAD = 1;

/** Creates what is missing of the open range and the one after it (at start, in every process, and at each run). */
export async function ensurePartitions(db: Db, log: Logger, opts: Pick<PartitionOptions, 'mailings'>): Promise<MessagePartition[]> {
  const [parts, next] = await Promise.all([listPartitions(db), nextMailingId(db)]);
  const ranges: { from: number; to: number }[] = [];
  let cursor = parts.length > 0 ? parts[parts.length - 1].to : next;
  let after = parts.filter((p) => p.from > next).length;
  while (cursor <= next || after < AHEAD) {
    ranges.push({ from: cursor, to: cursor + opts.mailings });
    if (cursor > next) after++;
    cursor += opts.mailings;
  }
  const created = await createPartitions(db, ranges);
  for (const p of created) log.info({ partition: p.name, fromMailingId: p.from, toMailingId: p.to }, 'messages partition created');
  return created;
}

/** One run of the schedule: create ahead, turn to a new partition when the period is over, prune. */
export async function maintainPartitions(
  db: Db,
  sql: Parameters<typeof archivePartition>[0],
  log: Logger,
  opts: PartitionOptions,
  onDropped?: (p: DroppedPartition) => void,
): Promise<PartitionRun> {
  const created = await ensurePartitions(db, log, opts);
  const turned = await turnWhenDue(db, log, opts);
  if (turned) created.push(...(await ensurePartitions(db, log, opts)));
  const dropped: DroppedPartition[] = [];
  if (opts.retentionMs !== null) {
    await finishInterruptedDrops(db, log);
    for (const p of await closedPartitions(db)) {
      if (!(await isPrunable(db, p, opts.retentionMs))) continue;
      const d = await prune(db, sql, log, p, opts);
      dropped.push(d);
      onDropped?.(d);
    }
  }
  return { created, turned, dropped };
}

async function turnWhenDue(db: Db, log: Logger, opts: PartitionOptions): Promise<boolean> {
  const [parts, next] = await Promise.all([listPartitions(db), nextMailingId(db)]);
  const open = parts.find((p) => p.from <= next && next < p.to);
  if (!open || open.from === next) return false;
  const first = await firstMailingCreatedAt(db, { from: open.from, to: next });
  if (!first || Date.now() - first.getTime() < opts.periodMs) return false;
  if (!(await moveMailingIdsTo(db, open.to))) return false;
  log.info({ partition: open.name, nextMailingId: open.to, firstMailingAt: first.toISOString() }, 'messages partition closed to new mailings: the next ones go to the next partition');
  return true;
}

/** Partitions entirely below the open one. */
async function closedPartitions(db: Db): Promise<MessagePartition[]> {
  const [parts, next] = await Promise.all([listPartitions(db), nextMailingId(db)]);
  return parts.filter((p) => p.to <= next);
}

async function prune(db: Db, sql: Parameters<typeof archivePartition>[0], log: Logger, p: MessagePartition, opts: PartitionOptions): Promise<DroppedPartition> {
  const started = performance.now();
  const mailings = await mailingsWithRows(db, p);
  const rows = mailings.reduce((n, m) => n + m.rows, 0);
  // Archived and checked first: a failure leaves the partition as it is, for the next run.
  const archived = opts.archiveDir ? await archivePartition(sql, opts.archiveDir, p, mailings) : null;
  await detachPartition(db, p.name);
  await dropDetached(db, p.name, p);
  // A mailing of the range scheduled for later still needs somewhere to write.
  if (await rangeHasUnfinishedMailings(db, p)) await createPartitions(db, [p]);
  log.info(
    { partition: p.name, fromMailingId: p.from, toMailingId: p.to, rows, mailings: mailings.length, archive: archived ? opts.archiveDir : null, ms: Math.round(performance.now() - started) },
    'messages partition dropped (retention)',
  );
  return { ...p, rows, mailings: mailings.length, archived };
}

/** A drop that stopped between its detach and its drop (the process died): finished now. */
async function finishInterruptedDrops(db: Db, log: Logger): Promise<void> {
  for (const t of await listDetached(db)) {
    if (t.pending) await detachPartition(db, t.name, true);
    const from = fromOfName(t.name);
    const top = from === null ? null : await highestMailingIdIn(db, t.name);
    const range = from !== null && top !== null ? { from, to: top + 1 } : null;
    await dropDetached(db, t.name, range);
    log.warn({ partition: t.name }, 'messages partition dropped: an earlier drop had stopped after its detach');
  }
}
