import { waitFor } from './wait';
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

/** Creates a mailing that starts now and ends in a minute, unless `input` says otherwise. */
export async function createMailing(herald: Pick<TestHerald, 'gql'>, input: Record<string, unknown>) {
  const res = await herald.gql(CREATE_MAILING, { input: { text: 'Hello', startAt: inMs(-1000), endAt: inMs(60_000), ...input } });
  if (!res.body.data?.createMailing) throw new Error(JSON.stringify(res.body));
  return res.body.data.createMailing as { id: string; status: string; startAt: string; endAt: string; sendWindow: { from: string; to: string } | null };
}

export async function mailingState(herald: Pick<TestHerald, 'ok'>, id: string) {
  return (await herald.ok(MAILING_STATE, { id })).mailing;
}

/** Waits until the mailing has `status`; returns its state then. */
export function untilMailingStatus(herald: Pick<TestHerald, 'ok'>, id: string, status: string, timeoutMs: number) {
  return waitFor(async () => {
    const m = await mailingState(herald, id);
    return m?.status === status && m;
  }, timeoutMs, `mailing ${id} to be ${status}`);
}

/** The phones of these clients, as numbers (as the gateway receives them). */
export async function phonesOf(herald: Pick<TestHerald, 'sql'>, clientIds: readonly number[]): Promise<Set<number>> {
  const rows = await herald.sql<{ phone: string }[]>`select phone from clients where id = any(${clientIds as number[]}::bigint[])`;
  return new Set(rows.map((r) => Number(r.phone)));
}
