import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertClients, untilMailingStatus } from './support/fixtures';
import { startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';

/**
 * Mailing.actions over GraphQL: for a mailing in each status, the actions listed are exactly
 * the mutations that succeed on it. Each mutation is tried on a copy of its own (made the
 * same way), so that one action's effect does not decide the next one's fate.
 */

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
  await insertClients(herald, 3, { operatorCode: '977' });
});
afterAll(() => herald?.stop());

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const ACTIONS = `query($id: ID!) { mailing(id: $id) { status actions } }`;

/** Each action as the mutation it names. */
const MUTATIONS: Record<string, string> = {
  PAUSE: `mutation($id: ID!) { pauseMailing(id: $id) { id } }`,
  RESUME: `mutation($id: ID!) { resumeMailing(id: $id) { id } }`,
  CANCEL: `mutation($id: ID!) { cancelMailing(id: $id) { id } }`,
  EDIT: `mutation($id: ID!) { updateMailing(id: $id, input: { name: "edited" }) { id } }`,
  DELETE: `mutation($id: ID!) { deleteMailing(id: $id) }`,
  DUPLICATE: `mutation($id: ID!) { duplicateMailing(id: $id) { id } }`,
  RETRY_FAILED: `mutation($id: ID!) { retryFailed(mailingId: $id) { id } }`,
};

async function create(input: Record<string, unknown>): Promise<string> {
  return (await herald.ok(`mutation($input: CreateMailingInput!) { createMailing(input: $input) { id } }`, { input: { text: 'Hello', ...input } })).createMailing.id;
}

/** A window shut now for clients in UTC, opening within the mailing's period: its messages wait for it. */
function shutWindow() {
  const minute = new Date().getUTCHours() * 60 + new Date().getUTCMinutes();
  const hhmm = (m: number) => `${String(Math.floor(m / 60) % 24).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return { from: hhmm((minute + 120) % 1440), to: hhmm((minute + 180) % 1440) };
}

/** A FAILED message of the mailing, as a failed attempt leaves it. */
async function addFailed(id: string): Promise<void> {
  await herald.sql`insert into messages (mailing_id, client_id, phone, status, attempts, last_error)
                   values (${id}, ${900_000_000 + Number(id)}, '79990000000', 'FAILED', 1, 'rejected')`;
}

const running = async () => {
  const id = await create({ startAt: inMs(-1000), endAt: inMs(DAY), filter: { operatorCodes: ['977'] }, sendWindow: shutWindow() });
  await untilMailingStatus(herald, id, 'RUNNING', 5_000);
  return id;
};
const completed = () => create({ startAt: inMs(-1000), endAt: inMs(HOUR), filter: { operatorCodes: ['000'] } });

/** How to make a mailing in each state (its status first in the name), afresh each time. */
const STATES: Record<string, () => Promise<string>> = {
  SCHEDULED: () => create({ startAt: inMs(HOUR), endAt: inMs(2 * HOUR) }),
  RUNNING: running,
  'RUNNING with failed messages': async () => {
    const id = await running();
    await addFailed(id);
    return id;
  },
  PAUSED: async () => {
    const id = await running();
    await herald.ok(MUTATIONS.PAUSE, { id });
    return id;
  },
  COMPLETED: completed,
  'COMPLETED with failed messages': async () => {
    const id = await completed();
    await addFailed(id);
    return id;
  },
  'COMPLETED with failed messages, its end passed': async () => {
    const id = await completed();
    await addFailed(id);
    await herald.sql`update mailings set start_at = now() - interval '2 hours', end_at = now() - interval '1 hour' where id = ${id}`;
    return id;
  },
  CANCELLED: async () => {
    const id = await create({ startAt: inMs(HOUR), endAt: inMs(2 * HOUR) });
    await herald.ok(MUTATIONS.CANCEL, { id });
    return id;
  },
};

/** What each state allows, as the transition table says (the unit tests judge actionsFor alone). */
const EXPECTED: Record<string, string[]> = {
  SCHEDULED: ['CANCEL', 'EDIT', 'DELETE', 'DUPLICATE'],
  RUNNING: ['PAUSE', 'CANCEL', 'EDIT', 'DELETE', 'DUPLICATE'],
  'RUNNING with failed messages': ['PAUSE', 'CANCEL', 'EDIT', 'DELETE', 'DUPLICATE', 'RETRY_FAILED'],
  PAUSED: ['RESUME', 'CANCEL', 'EDIT', 'DELETE', 'DUPLICATE'],
  COMPLETED: ['DELETE', 'DUPLICATE'],
  'COMPLETED with failed messages': ['DELETE', 'DUPLICATE', 'RETRY_FAILED'],
  'COMPLETED with failed messages, its end passed': ['DELETE', 'DUPLICATE'],
  CANCELLED: ['DELETE', 'DUPLICATE'],
};

describe('what a mailing lists as its actions', () => {
  for (const [state, make] of Object.entries(STATES)) {
    it(`should list for a ${state} mailing exactly the mutations that succeed on it`, async () => {
      const read = (await herald.ok(ACTIONS, { id: await make() })).mailing;
      expect(read.status).toBe(state.split(' ')[0]);
      const listed = read.actions as string[];
      const succeeded: string[] = [];
      const outcomes: Record<string, unknown> = {};
      for (const [action, mutation] of Object.entries(MUTATIONS)) {
        const id = await make();
        const before = (await herald.ok(ACTIONS, { id })).mailing;
        expect(before).toEqual(read);
        const res = await herald.gql(mutation, { id });
        outcomes[action] = res.body.errors?.[0]?.extensions?.code ?? 'ok';
        if (!res.body.errors) succeeded.push(action);
      }
      expect({ listed: [...listed].sort(), outcomes }).toEqual({ listed: succeeded.sort(), outcomes });
      expect(listed).toEqual(EXPECTED[state]);
    });
  }

  it('should list nothing for a viewer, who may run none of them', async () => {
    const id = await running();
    await addFailed(id);
    expect((await herald.ok(ACTIONS, { id }, { token: VIEWER_TOKEN })).mailing.actions).toEqual([]);
    for (const mutation of Object.values(MUTATIONS)) {
      const res = await herald.gql(mutation, { id }, { token: VIEWER_TOKEN });
      expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });
});
