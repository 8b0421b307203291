import postgres from 'postgres';
import { reconnectBackoff } from '../db/connection';
import type { Logger } from '../logger';
import { EVENT_CHANNEL, parseEvent, type HeraldEvent } from './event.channel';

/**
 * This process's ear on the event channel: one LISTEN connection, fanned out in memory.
 * NOTIFYs sent while the connection is down are lost, so after every reconnect the bus
 * tells its `onResync` listeners to read the state afresh.
 */
export class EventBus {
  private readonly listeners = new Set<(event: HeraldEvent) => void>();
  private readonly resyncListeners = new Set<() => void>();
  private listening = false;

  private constructor(private readonly sql: postgres.Sql, private readonly log: Logger) {}

  static async start(databaseUrl: string, log: Logger): Promise<EventBus> {
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, backoff: reconnectBackoff, connection: { application_name: 'herald-events' } });
    const bus = new EventBus(sql, log);
    await sql.listen(
      EVENT_CHANNEL,
      (payload) => bus.emit(payload),
      () => bus.onListen(),
    );
    return bus;
  }

  subscribe(listener: (event: HeraldEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  stop(): Promise<void> {
    return this.sql.end({ timeout: 5 });
  }

  private emit(payload: string): void {
    const event = parseEvent(payload);
    if (!event) return void this.log.warn({ payload: payload.slice(0, 200) }, 'ignored a malformed event');
    for (const listener of this.listeners) listener(event);
  }

  private onListen(): void {
    if (!this.listening) {
      this.listening = true;
      return;
    }
    this.log.warn('event channel reconnected: subscribers get fresh snapshots');
    for (const listener of this.resyncListeners) listener();
  }
}
