import { createHash } from 'node:crypto';
import type { Principal } from '../auth/tokens';
import { RateLimitedError } from '../common/errors';
import type { Db } from '../db/connection';
import { answerWithin } from '../db/answer-within';
import { logRepeated, type Logger } from '../logger';
import { addCosts, chargeCost, deleteOldCostWindows } from './cost-window.store';

/** A charge the database has not answered within this long lets the operation through. */
const CHARGE_TIMEOUT_MS = 1_000;
const CLEANUP_EVERY_MS = 60_000;
/** Charges granted in memory are written this long after the first of them, all keys in one statement. */
export const COST_FLUSH_MS = 100;
/**
 * The share of the budget one process may grant in memory, unwritten: a charge larger than
 * that, or one that would take the unwritten total of its key over it, is written at once.
 */
export const COST_LOCAL_SHARE = 0.01;

/** One key's spending as this process knows it. */
type Known = {
  /** what the database said the key had spent in its current minute, by every process, when last asked */
  spent: number;
  /** when that minute ends, by this process's clock (0: not known) */
  minuteEndsAt: number;
  /** granted here since, not yet written */
  unwritten: number;
};

/**
 * Each principal's budget of cost per minute (RATE_LIMIT_COST_PER_MINUTE), kept in
 * PostgreSQL so that every api process draws on the same one, in fixed minutes (a client may
 * spend up to twice the budget across the turn of a minute; a sliding window would cost a
 * second row read per operation). Small charges are granted in memory and written in batches
 * (every COST_FLUSH_MS, one statement for every key): a trivial query costs no round trip.
 * A charge is granted in memory only while this process's unwritten total for the key stays
 * within COST_LOCAL_SHARE of the budget and what the database last said was spent, plus that,
 * stays within the budget; any other charge (a large one, or one near the limit) flushes the
 * key and is decided by the database's conditional upsert, as every charge was before. So a
 * principal spends at most 1% of its budget over it per other api process (what each may
 * hold unwritten), and every refusal is the database's, with its seconds to the next minute.
 * Charges written up to COST_FLUSH_MS late may count in the next minute. When the database cannot
 * answer, operations go through: the budget protects the database, and an unreachable one
 * fails the operation by itself. While the database is known to be away (`databaseAway`),
 * no charge is tried at all: the operation is refused at its first field at once, instead of
 * after the charge's timeout.
 */
export class CostBudget {
  private lastCleanup = 0;
  private readonly known = new Map<string, Known>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly perMinute: number,
    private readonly log: Logger,
    private readonly databaseAway: () => boolean = () => false,
    /** told when the database stops answering: a charge waiting on it is let through then, not at its timeout */
    onDatabaseDown?: (listener: () => void) => unknown,
  ) {
    onDatabaseDown?.(() => {
      this.wentAway?.();
      this.away = null;
    });
  }

  private away: Promise<null> | null = null;
  private wentAway: (() => void) | null = null;

  /** Resolves when the database is next found away. */
  private untilAway(): Promise<null> {
    return (this.away ??= new Promise<null>((resolve) => (this.wentAway = () => resolve(null))));
  }

  /** Spends `cost` of the principal's minute, or throws RATE_LIMITED with the seconds until the next one. */
  async charge(principal: Principal, cost: number): Promise<void> {
    if (this.perMinute === 0 || this.databaseAway()) return;
    const key = this.keyOf(principal.id);
    const now = Date.now();
    let known = this.known.get(key);
    if (!known || (known.minuteEndsAt !== 0 && now >= known.minuteEndsAt)) {
      // A new minute: what was spent in the last one no longer counts (its unwritten charges go in this one).
      known = { spent: 0, minuteEndsAt: 0, unwritten: known?.unwritten ?? 0 };
      this.known.set(key, known);
    }
    const share = this.perMinute * COST_LOCAL_SHARE;
    if (known.unwritten + cost <= share && known.spent + known.unwritten + cost <= this.perMinute) {
      known.unwritten += cost;
      this.scheduleFlush();
      return;
    }
    try {
      // This key's unwritten charges first, so that the database decides on everything granted here.
      await this.flush();
      const charge = await Promise.race([answerWithin(chargeCost(this.db, key, cost, this.perMinute), CHARGE_TIMEOUT_MS, 'charging the cost budget'), this.untilAway()]);
      // The database went away meanwhile: through, to be refused at its first field at once.
      if (charge === null) return;
      const current = this.known.get(key) ?? { spent: 0, minuteEndsAt: 0, unwritten: 0 };
      this.known.set(key, current);
      // Refused: the budget is spent until the minute ends; every charge till then asks the database (and is refused).
      current.spent = charge.granted ? charge.spent : this.perMinute;
      current.minuteEndsAt = Date.now() + charge.retryAfterS * 1000;
      if (!charge.granted) {
        throw new RateLimitedError(`this token has spent its budget of ${this.perMinute} cost per minute; retry in ${charge.retryAfterS} s`, {
          retryAfter: charge.retryAfterS,
          limit: this.perMinute,
        });
      }
    } catch (error) {
      if (error instanceof RateLimitedError) throw error;
      return this.warn(error);
    }
    this.cleanUp();
  }

  private keys = new Map<string, string>();

  /** The principal's key in cost_windows: a digest, never the id itself (cached: one a principal). */
  private keyOf(id: string): string {
    let key = this.keys.get(id);
    if (key === undefined) {
      key = createHash('sha256').update(id).digest('base64url').slice(0, 22);
      if (this.keys.size >= 10_000) this.keys.clear();
      this.keys.set(id, key);
    }
    return key;
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, COST_FLUSH_MS);
    this.flushTimer.unref();
  }

  /**
   * Writes every key's unwritten charges (one statement), and learns from the answer what each
   * has spent by every process. Charges that cannot be written (the database away) are
   * forgotten, as the operations let through meanwhile are.
   */
  flush(): Promise<void> {
    // This writes everything unwritten: a batch still scheduled has nothing left to write.
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const run = this.flushing.then(async () => {
      const batch = new Map<string, number>();
      const now = Date.now();
      for (const [key, known] of this.known) {
        if (known.unwritten > 0) batch.set(key, known.unwritten);
        // A key whose minute is over and that has nothing to write is forgotten: memory stays one entry a recent principal.
        else if (known.minuteEndsAt !== 0 && now >= known.minuteEndsAt) this.known.delete(key);
        known.unwritten = 0;
      }
      if (batch.size === 0) return;
      if (this.databaseAway()) return;
      try {
        const rows = await answerWithin(addCosts(this.db, batch), CHARGE_TIMEOUT_MS, 'writing the cost budget');
        const answered = Date.now();
        for (const row of rows) {
          const known = this.known.get(row.key);
          if (known) Object.assign(known, { spent: row.spent, minuteEndsAt: answered + row.retryAfterS * 1000 });
        }
      } catch (error) {
        this.warn(error);
      }
      this.cleanUp();
    });
    this.flushing = run;
    return run;
  }

  private cleanUp(): void {
    const now = Date.now();
    if (now - this.lastCleanup < CLEANUP_EVERY_MS) return;
    this.lastCleanup = now;
    deleteOldCostWindows(this.db).catch((err) => this.warn(err));
  }

  private warn(err: unknown): void {
    logRepeated(this.log, 'warn', { err: { message: (err as Error)?.message } }, 'cost budget not checked (operations let through)');
  }
}
