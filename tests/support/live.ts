import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_TOKEN } from './herald';

export type Received<T> = { at: number; data: T };

/**
 * A graphql-ws subscription as a dashboard holds it: events with their arrival times,
 * `finished` when the server completes it (or fails it), `stop()` to leave.
 */
export function subscribe<T = any>(heraldUrl: string, query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) {
  const events: Received<T>[] = [];
  const errors: unknown[] = [];
  const client = createClient({
    url: `${heraldUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  let unsubscribe: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          if (result.errors) errors.push(...result.errors);
          if (result.data) events.push({ at: Date.now(), data: result.data as T });
        },
        error: (error) => {
          errors.push(error);
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return {
    events,
    errors,
    finished,
    stop: async () => {
      unsubscribe();
      await client.dispose();
    },
  };
}
