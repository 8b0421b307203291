import type { Sql } from 'postgres';
import { csvRecord } from './csv';

// deliveredAt last: the columns before it keep their places for readers written before it came.
export const EXPORT_HEADER = ['id', 'clientId', 'phone', 'status', 'attempts', 'sentAt', 'lastError', 'deliveredAt'];

/** One message as a record of the export (the archive of a dropped partition writes the same). */
export const exportRecord = (m: ExportRow): string => csvRecord([m.id, m.client_id, m.phone, m.status, m.attempts, m.sent_at, m.last_error, m.delivered_at]);

export type ExportRow = {
  id: string;
  client_id: string;
  phone: string;
  status: string;
  attempts: number;
  sent_at: string | null;
  last_error: string | null;
  delivered_at: string | null;
};

/**
 * A mailing's messages in id order, `batch` rows at a time through a server-side cursor
 * (postgres.js `cursor`): however many there are, no more than one batch is in memory.
 * Times come as ISO 8601 text in UTC, formatted by PostgreSQL.
 */
export function messagesForExport(sql: Sql, mailingId: number, batch: number): AsyncIterable<ExportRow[]> {
  return sql<ExportRow[]>`
    select id::text, client_id::text, phone, status::text, attempts,
           to_char(sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as sent_at, last_error,
           to_char(delivered_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as delivered_at
    from messages where mailing_id = ${mailingId}
    -- qualified: a bare \`id\` here is the text column selected above, which sorted 1000 before
    -- 999 and made PostgreSQL sort the whole mailing before the first row went out
    order by messages.id`.cursor(batch);
}

export async function mailingExists(sql: Sql, mailingId: number): Promise<boolean> {
  const rows = await sql`select 1 from mailings where id = ${mailingId}`;
  return rows.length > 0;
}
