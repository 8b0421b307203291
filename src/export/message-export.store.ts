import type { Sql } from 'postgres';

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
    order by id`.cursor(batch);
}

export async function mailingExists(sql: Sql, mailingId: number): Promise<boolean> {
  const rows = await sql`select 1 from mailings where id = ${mailingId}`;
  return rows.length > 0;
}
