import { createHash } from 'node:crypto';
import type { Principal } from '../auth/tokens';
import { RateLimitedError } from '../common/errors';
import type { Db } from '../db/connection';
import { answerWithin } from '../db/answer-within';
import { logRepeated, type Logger } from '../logger';
import { chargeCost, deleteOldCostWindows } from './cost-window.store';

/** A charge the database has not answered within this long lets the operation through. */
const CHARGE_TIMEOUT_MS = 1_000;
const CLEANUP_EVERY_MS = 60_000;

/**
 * Each principal's budget of cost per minute (RATE_LIMIT_COST_PER_MINUTE), kept in
 * PostgreSQL so that every api process draws on the same one: one upsert per operation, in
 * fixed minutes (a client may spend up to twice the budget across the turn of a minute;
 * a sliding window would cost a second row read per operation). When the database cannot
 * answer, operations go through: the budget protects the database, and an unreachable one
 * fails the operation by itself. While the database is known to be away (`databaseAway`),
 * no charge is tried at all: the operation is refused at its first field at once, instead of
 * after the charge's timeout.
 */
export class CostBudget {
  private lastCleanup = 0;

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
    const key = createHash('sha256').update(principal.id).digest('base64url').slice(0, 22);
    try {
      const charge = await Promise.race([answerWithin(chargeCost(this.db, key, cost, this.perMinute), CHARGE_TIMEOUT_MS, 'charging the cost budget'), this.untilAway()]);
      // The database went away meanwhile: through, to be refused at its first field at once.
      if (charge === null) return;
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
