import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Db = PostgresJsDatabase<typeof schema>;
export type Database = { db: Db; close: () => Promise<void> };

export function connectDatabase(url: string, opts: { max?: number; name?: string } = {}): Database {
  const client = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {}, // postgres.js prints notices with console.log by default
    connection: { application_name: opts.name ?? 'herald' },
  });
  return {
    db: drizzle({ client, schema }),
    close: () => client.end({ timeout: 5 }),
  };
}
