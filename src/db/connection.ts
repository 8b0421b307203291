import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Db = PostgresJsDatabase<typeof schema>;
export type Database = { db: Db; close: () => Promise<void> };

export type ConnectOptions = {
  max?: number;
  /** application_name, to tell Herald's pools apart in pg_stat_activity */
  name?: string;
  /** PostgreSQL ends a transaction left idle this long (a hung process), freeing its locks */
  idleInTransactionMs?: number;
};

export function connectDatabase(url: string, opts: ConnectOptions = {}): Database {
  const client = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {}, // postgres.js prints notices with console.log by default
    connection: {
      application_name: opts.name ?? 'herald',
      ...(opts.idleInTransactionMs ? { idle_in_transaction_session_timeout: opts.idleInTransactionMs } : {}),
    },
  });
  return {
    db: drizzle({ client, schema }),
    close: () => client.end({ timeout: 5 }),
  };
}
