import type { Sql } from 'postgres';
import type { Config } from '../config';
import type { Db } from '../db/connection';
import type { Logger } from '../logger';
import type { PgBossTimers } from '../timers/timer.pgboss';
import { maintainPartitions, type DroppedPartition } from './partition.service';

export const PARTITION_QUEUE = 'message-partitions';

/**
 * The partitions' queue: `singleton`, so that one run at a time is active whatever the number
 * of workers (pg-boss's cron sends one job per schedule and minute); a run that fails (the
 * database away, an archive that does not check) is tried again, and the next run starts over
 * from what the catalog says.
 */
export const partitionQueueOptions = { policy: 'singleton' as const, retryLimit: 3, retryDelay: 30, retryBackoff: true, expireInSeconds: 3_600 };

/** In a worker process: the schedule (PARTITION_CRON, UTC) and the runner of its jobs. */
export async function startPartitionKeeping(
  config: Config,
  db: Db,
  timers: PgBossTimers,
  log: Logger,
  pollMs: number,
  onDropped?: (p: DroppedPartition) => void,
): Promise<void> {
  const sql = (db as unknown as { $client: Sql }).$client;
  await timers.scheduleCron(PARTITION_QUEUE, config.partitions.cron, 'UTC');
  await timers.workOn(PARTITION_QUEUE, async () => void (await maintainPartitions(db, sql, log, config.partitions, onDropped)), pollMs);
}
