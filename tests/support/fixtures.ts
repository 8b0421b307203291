import type { TestHerald } from './herald';

let nextPhone = 70000000000 + Math.floor(Math.random() * 1e9);

/** Inserts clients straight into the table (fast, set-based); returns their ids. */
export async function insertClients(
  herald: Pick<TestHerald, 'sql'>,
  count: number,
  props: { operatorCode?: string; tags?: string[]; timezone?: string } = {},
): Promise<number[]> {
  const first = nextPhone;
  nextPhone += count;
  const rows = await herald.sql<{ id: string }[]>`
    insert into clients (phone, operator_code, tags, timezone)
    select (${first}::bigint + i)::text, ${props.operatorCode ?? '900'}, ${props.tags ?? []}::text[], ${props.timezone ?? 'UTC'}
    from generate_series(0, ${count - 1}) as i
    returning id`;
  return rows.map((r) => Number(r.id));
}

export const CREATE_MAILING = `mutation($input: CreateMailingInput!) {
  createMailing(input: $input) { id status startAt endAt sendWindow { from to } }
}`;

export const MAILING_STATE = `query($id: ID!) {
  mailing(id: $id) { id status stats { total pending sent failed expired cancelled } }
}`;

/** ISO time `ms` from now. */
export const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
