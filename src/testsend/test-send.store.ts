import { sql } from 'drizzle-orm';
import type { Db } from '../db/connection';
import { testSends, type TestSendRow } from './test-send.table';

/** A new id from the messages' sequence: the gateway knows a test send, as any message, by it. */
export async function nextTestSendId(db: Db): Promise<number> {
  const [{ id }] = await db.execute<{ id: string }>(sql`select nextval('messages_id_seq'::regclass) as id`);
  return Number(id);
}

/** Records what a test send came to. */
export async function recordTestSend(db: Db, row: Pick<TestSendRow, 'id' | 'phone' | 'text' | 'status' | 'error'>): Promise<void> {
  await db.insert(testSends).values(row);
}
