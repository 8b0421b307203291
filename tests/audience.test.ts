import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR, type GatewaySimulator } from '../src/gateway/simulator';
import { CREATE_MAILING, inMs, insertClients, mailingState, phonesOf, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { startTestHerald, type TestHerald } from './support/herald';
import { waitFor } from './support/wait';

/**
 * A mailing is for the clients who match its filter at its start, one message each, however
 * the directory changes while it runs: its audience is read from the clients table as it
 * goes, and these are the rules that keep that exact.
 */
let herald: TestHerald;
let gateway: GatewaySimulator;

// One request at a time, 60 ms each: a mailing of 40 takes about 2.4 s, so the last clients
// are still ahead of the dispatcher when a test changes them.
beforeAll(async () => {
  const gw = await startTestGateway({ latencyMs: 60 });
  gateway = gw.simulator;
  herald = await startTestHerald({ ...gw.config, dispatch: { concurrency: 1 } });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});
afterEach(() => gateway.set({ ...DEFAULT_BEHAVIOUR, latencyMs: 60 }));

const UPDATE_CLIENT = `mutation($id: ID!, $input: UpdateClientInput!) { updateClient(id: $id, input: $input) { id } }`;

async function runningMailing(n: number) {
  const tag = `a${Math.random().toString(36).slice(2, 10)}`;
  const clientIds = await insertClients(herald, n, { tags: [tag] });
  const data = await herald.ok(CREATE_MAILING, { input: { text: 'Audience', startAt: inMs(-1000), endAt: inMs(60_000), filter: { tags: [tag] } } });
  const mailing = data.createMailing as { id: string; status: string };
  expect(mailing.status).toBe('RUNNING');
  return { tag, clientIds, mailing };
}

const sentTo = (phones: Set<number>) => gateway.received.filter((r) => phones.has(Number(r.phone)));

describe('the audience of a running mailing', () => {
  it('should know its total at the start and keep every count equal to the rows at the end', async () => {
    const { clientIds, mailing } = await runningMailing(40);
    const atStart = await mailingState(herald, mailing.id);
    expect(atStart.stats).toMatchObject({ total: 40 });
    expect(atStart.stats.pending + atStart.stats.sent).toBe(40);
    const done = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 10_000);
    expect(done.stats).toMatchObject({ total: 40, sent: 40, pending: 0 });
    const rows = await herald.sql`select client_id, status from messages where mailing_id = ${mailing.id}`;
    expect(rows.map((r) => Number(r.client_id)).sort((a, b) => a - b)).toEqual(clientIds);
    expect(rows.every((r) => r.status === 'SENT')).toBe(true);
  });

  it('should still send to a client who stops matching after the start, to the phone it had then', async () => {
    const { clientIds, mailing } = await runningMailing(40);
    const last = clientIds.at(-1)!;
    const [phoneAtStart] = await phonesOf(herald, [last]);
    await herald.ok(UPDATE_CLIENT, { id: String(last), input: { tags: ['moved-on'], phone: '79995550001' } });
    const done = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 10_000);
    expect(done.stats).toMatchObject({ total: 40, sent: 40 });
    const [row] = await herald.sql`select phone, status from messages where mailing_id = ${mailing.id} and client_id = ${last}`;
    expect(row).toEqual({ phone: String(phoneAtStart), status: 'SENT' });
    expect(sentTo(new Set([79995550001]))).toEqual([]);
  });

  it('should send nothing to a client who starts matching, or joins the directory, after the start', async () => {
    const { tag, mailing } = await runningMailing(40);
    const [outsider] = await insertClients(herald, 1, { tags: ['elsewhere'] });
    await herald.ok(UPDATE_CLIENT, { id: String(outsider), input: { tags: [tag] } });
    const [newcomer] = await insertClients(herald, 1, { tags: [tag] });
    const late = await phonesOf(herald, [outsider, newcomer]);
    const done = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 10_000);
    expect(done.stats).toMatchObject({ total: 40, sent: 40 });
    expect(sentTo(late)).toEqual([]);
    expect(await herald.sql`select id from messages where mailing_id = ${mailing.id} and client_id in ${herald.sql([outsider, newcomer])}`).toEqual([]);
  });

  it('should take a client deleted before its turn out of the mailing, and its count with it', async () => {
    const { clientIds, mailing } = await runningMailing(40);
    const doomed = clientIds.slice(-3);
    const phones = await phonesOf(herald, doomed);
    for (const id of doomed) await herald.ok(`mutation($id: ID!) { deleteClient(id: $id) }`, { id: String(id) });
    expect((await mailingState(herald, mailing.id)).stats.total).toBe(37);
    const done = await untilMailingStatus(herald, mailing.id, 'COMPLETED', 10_000);
    expect(done.stats).toMatchObject({ total: 37, sent: 37, pending: 0 });
    expect(sentTo(phones)).toEqual([]);
  });

  it('should expire at its end every client it did not reach, each with a row', async () => {
    gateway.set({ latencyMs: 200 });
    const tag = `e${Math.random().toString(36).slice(2, 10)}`;
    const clientIds = await insertClients(herald, 30, { tags: [tag] });
    const data = await herald.ok(CREATE_MAILING, { input: { text: 'Short', startAt: inMs(-1000), endAt: inMs(1_500), filter: { tags: [tag] } } });
    await untilMailingStatus(herald, data.createMailing.id, 'COMPLETED', 10_000);
    // What was in flight at the end is pending until its answer is written (SENT stands).
    const done = await waitFor(async () => {
      const m = await mailingState(herald, data.createMailing.id);
      return m.stats.pending === 0 && m;
    }, 2_000, 'the requests in flight at the end to be answered');
    expect(done.stats.total).toBe(30);
    expect(done.stats.sent).toBeGreaterThan(0);
    expect(done.stats.expired).toBeGreaterThan(10);
    expect(done.stats.sent + done.stats.expired).toBe(30);
    const rows = await herald.sql`select client_id, status from messages where mailing_id = ${data.createMailing.id}`;
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((r) => Number(r.client_id)))).toEqual(new Set(clientIds));
    expect(rows.filter((r) => r.status === 'EXPIRED')).toHaveLength(done.stats.expired);
  });

  it('should cancel every client it did not reach, each with a row, and send none of them', async () => {
    const { clientIds, mailing } = await runningMailing(40);
    await waitFor(async () => (await mailingState(herald, mailing.id)).stats.sent >= 3, 5_000, 'a few sent');
    await herald.ok(`mutation($id: ID!) { cancelMailing(id: $id) { status } }`, { id: mailing.id });
    // What was in flight at the cancel is pending until its answer is written (SENT stands).
    const state = await waitFor(async () => {
      const m = await mailingState(herald, mailing.id);
      return m.stats.pending === 0 && m;
    }, 2_000, 'the requests in flight at the cancel to be answered');
    expect(state.stats.sent + state.stats.cancelled).toBe(40);
    const rows = await herald.sql`select client_id, status from messages where mailing_id = ${mailing.id}`;
    expect(rows).toHaveLength(40);
    const cancelled = rows.filter((r) => r.status === 'CANCELLED').map((r) => Number(r.client_id));
    expect(cancelled).toHaveLength(state.stats.cancelled);
    const phones = await phonesOf(herald, cancelled);
    await new Promise((r) => setTimeout(r, 300));
    expect(sentTo(phones)).toEqual([]);
    expect(clientIds).toEqual(expect.arrayContaining(cancelled));
  });
});
