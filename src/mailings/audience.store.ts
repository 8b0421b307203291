import { sql, type SQL } from 'drizzle-orm';
import type { TagMatch } from '../clients/client.filter';
import type { Db } from '../db/connection';
import { lockAudiences } from '../db/locks';

/**
 * A started mailing's audience: who it is for is decided at its start, and its members are
 * handed out to dispatchers in client-id order (dispatch/claim.store.ts, under leases until
 * their messages have rows). Every function here runs inside its caller's transaction.
 */

/** What decides the audience of a started mailing, read under its audience's lock. */
export type Audience = {
  mailingId: number;
  /** clients with an id up to this have been handed out (or written) */
  cursor: number;
  lastClientId: number;
  /** the start instant, as PostgreSQL printed it (a JS Date would drop the microseconds) */
  startedAt: string;
  filter: { operatorCodes: string[]; tags: string[]; tagMatch: TagMatch };
};

/**
 * The one definition of "a member still to be handed out, after client `after`": a client
 * who matched the filter at the start (an id up to the highest one then, unchanged since; a
 * client changed or deleted after the start is taken care of by the triggers on clients,
 * drizzle/0007, which spell the same rule). The filter goes in as parameters, so that the
 * planner folds away what an empty filter does not need.
 */
export function memberCondition(a: Audience, after: number): SQL {
  return sql`c.id > ${after} and c.id <= ${a.lastClientId} and c.updated_at <= ${a.startedAt}::timestamptz and ${matching(a.filter)}
    and not exists (select 1 from opt_outs o where o.phone = c.phone and o.opted_out_at <= ${a.startedAt}::timestamptz)`;
}

/** Client row `c` matches the filter. */
function matching(filter: Audience['filter']): SQL {
  return sql`herald_in_audience(c.operator_code, c.tags, ${sql.param(filter.operatorCodes)}::text[], ${sql.param(filter.tags)}::text[], ${filter.tagMatch}::tag_match)`;
}

/** How many clients a filter matches now, opted-out phones left out: the audience a start would fix. */
export async function countMatching(db: Db, filter: Audience['filter']): Promise<number> {
  const [row] = await db.execute<{ n: string }>(sql`
    select count(*) as n from clients c where ${matching(filter)} and not exists (select 1 from opt_outs o where o.phone = c.phone)`);
  return Number(row.n);
}

type AudienceRow = { cursor: string; last_client_id: string; started_at: string; codes: string[]; tags: string[]; tag_match: TagMatch };

const toAudience = (mailingId: number, r: AudienceRow): Audience => ({
  mailingId,
  cursor: Number(r.cursor),
  lastClientId: Number(r.last_client_id),
  startedAt: r.started_at,
  filter: { operatorCodes: r.codes, tags: r.tags, tagMatch: r.tag_match },
});

const AUDIENCE_COLUMNS = sql`a.cursor, a.last_client_id, a.started_at::text as started_at,
  g.filter_operator_codes as codes, g.filter_tags as tags, g.filter_tag_match as tag_match`;

/**
 * Fixes the audience of a mailing that starts now and returns its size. Under the audience
 * lock no client write is under way, so every client there is was written before this
 * instant (its updated_at is earlier), none is being inserted with an id below the highest
 * one seen, and every change after this transaction is seen by the triggers on clients.
 */
export async function createAudience(tx: Db, mailingId: number): Promise<number> {
  // Counting the audience of a mailing to millions of clients may outlast DB_STATEMENT_TIMEOUT_MS,
  // which is there to stop a hung request, not a start.
  await tx.execute(sql`set local statement_timeout = 0`);
  await lockAudiences(tx);
  const [row] = await tx.execute<AudienceRow>(sql`
    with a as (
      insert into audiences (mailing_id, started_at, last_client_id, size)
      values (${mailingId}, clock_timestamp(), coalesce((select max(id) from clients), 0), 0)
      returning *
    )
    select ${AUDIENCE_COLUMNS} from a join mailings g on g.id = a.mailing_id`);
  const audience = toAudience(mailingId, row);
  const [count] = await tx.execute<{ n: string }>(sql`select count(*) as n from clients c where ${memberCondition(audience, 0)}`);
  const size = Number(count.n);
  await tx.execute(sql`update audiences set size = ${size} where mailing_id = ${mailingId}`);
  await tx.execute(sql`
    insert into mailing_stats (mailing_id, queued) values (${mailingId}, ${size})
    on conflict (mailing_id) do update set queued = excluded.queued`);
  return size;
}

/**
 * Locks the mailing's audience for a claim: held (members are left, and now this claim's to
 * hand out), busy (another claim holds it), or neither (nobody left to hand out, or the
 * mailing has none: one started before audiences were streamed). A claim that goes on to
 * `handOut` must hold it first, from an earlier statement: the clients it reads must be read
 * after every client change that got in before it.
 */
export async function lockAudienceForClaim(tx: Db, mailingId: number): Promise<{ held: Audience } | { held: null; busy: boolean }> {
  const [row] = await tx.execute<AudienceRow>(sql`
    select ${AUDIENCE_COLUMNS} from audiences a join mailings g on g.id = a.mailing_id
    where a.mailing_id = ${mailingId} and a.cursor < a.last_client_id
    for update of a skip locked`);
  if (row) return { held: toAudience(mailingId, row) };
  const open = await tx.execute(sql`select 1 from audiences where mailing_id = ${mailingId} and cursor < last_client_id`);
  return { held: null, busy: open.length > 0 };
}

/**
 * The mailing is over (expired at its end, or cancelled): its audience is closed, nothing
 * more of it is handed out. Returns the condition on client row `c` of the members never
 * handed out, who then get their rows (message.store's closeUnsent), or null when it has no
 * audience (one started before audiences were streamed). Needs the mailing's exclusive lock
 * (no claim under way).
 */
export async function closeAudience(tx: Db, mailingId: number): Promise<SQL | null> {
  const [row] = await tx.execute<AudienceRow>(sql`
    select ${AUDIENCE_COLUMNS} from audiences a join mailings g on g.id = a.mailing_id where a.mailing_id = ${mailingId} for update of a`);
  if (!row) return null;
  // The condition holds the cursor as read here: moving the column on changes nothing of it.
  const audience = toAudience(mailingId, row);
  const members = memberCondition(audience, audience.cursor);
  await tx.execute(sql`update audiences set cursor = last_client_id where mailing_id = ${mailingId}`);
  return members;
}

/** A group of the clients a filter matches with the same placeholder values, and how many. */
export type ValueGroup = { values: (string | null)[]; count: number };

/**
 * The clients a filter matches now (opt-outs left out), grouped by the values the template's
 * placeholders read (`columns`: `c.name` or `c.attributes->>key`), most common first, up to
 * `limit` groups. Names and attribute values repeat a lot, so the groups are far fewer than
 * the clients; the caller renders each group once.
 */
export async function valueGroups(db: Db, filter: Audience['filter'], columns: SQL[], limit: number): Promise<ValueGroup[]> {
  const selected = columns.length === 0 ? sql`` : sql.join(columns.map((c, i) => sql`${c} as ${sql.raw(`v${i}`)}`), sql`, `);
  const grouped = columns.length === 0 ? sql`` : sql`group by ${sql.join(columns.map((_, i) => sql.raw(String(i + 1))), sql`, `)}`;
  const rows = await db.execute<Record<string, string | number | null>>(sql`
    select ${selected}${columns.length === 0 ? sql`` : sql`, `}count(*)::int as n from clients c
    where ${matching(filter)} and not exists (select 1 from opt_outs o where o.phone = c.phone)
    ${grouped} order by n desc limit ${limit}`);
  return [...rows]
    .filter((r) => Number(r.n) > 0)
    .map((r) => ({ values: columns.map((_, i) => (r[`v${i}`] as string | null) ?? null), count: Number(r.n) }));
}

/**
 * valueGroups by the values' shape only, for an audience with too many distinct values: per
 * placeholder its length (null: none) and whether it is plain (printable ASCII without GSM's
 * extension characters, one septet each). The caller renders a shape with stand-in
 * characters, a value that is not plain as UCS-2: an upper bound for those.
 */
export async function shapeGroups(db: Db, filter: Audience['filter'], columns: SQL[]): Promise<{ lengths: (number | null)[]; plain: boolean; count: number }[]> {
  const lengths = columns.map((c, i) => sql`char_length(${c}) as ${sql.raw(`l${i}`)}`);
  const plain = sql`(${sql.join(columns.map((c) => sql`coalesce(${c}, '') ~ '^[ !"#$%&''()*+,./0-9:;<=>?@A-Z_a-z-]*$'`), sql` and `)}) as plain`;
  const rows = await db.execute<Record<string, number | boolean | null>>(sql`
    select ${sql.join([...lengths, plain], sql`, `)}, count(*)::int as n from clients c
    where ${matching(filter)} and not exists (select 1 from opt_outs o where o.phone = c.phone)
    group by ${sql.join([...columns, null].map((_, i) => sql.raw(String(i + 1))), sql`, `)}`);
  return [...rows].map((r) => ({ lengths: columns.map((_, i) => (r[`l${i}`] as number | null) ?? null), plain: r.plain === true, count: Number(r.n) }));
}
