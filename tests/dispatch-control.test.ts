import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localSecondOfDay, nextOpening } from '../src/mailings/send-window';
import { DEFAULT_BEHAVIOUR, type GatewaySimulator } from '../src/gateway/simulator';
import { createMailing as createMailingFor, CREATE_MAILING, inMs, insertClients, MAILING_STATE, mailingState, phonesOf, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { onlyError, startTestHerald, type TestHerald } from './support/herald';
import { sleep, waitFor } from './support/wait';

let herald: TestHerald;
let gateway: GatewaySimulator;

// Slow answers and few connections, so that a mailing is still running when a test acts on it.
beforeAll(async () => {
  const gw = await startTestGateway({ latencyMs: 100 });
  gateway = gw.simulator;
  herald = await startTestHerald({ ...gw.config, dispatch: { concurrency: 2 } });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});
afterEach(() => gateway.set({ ...DEFAULT_BEHAVIOUR, latencyMs: 100 }));

const createMailing = (input: Record<string, unknown>) => createMailingFor(herald, input);
const stateOf = (id: string) => mailingState(herald, id);
const untilStatus = (id: string, status: string, timeoutMs = 15_000) => untilMailingStatus(herald, id, status, timeoutMs);
// A mailing's requests are told apart by its clients' phones: its messages get their rows
// (and ids) only as they go out.
const receivedFor = (phones: Set<number>, from = gateway) => from.received.filter((r) => phones.has(Number(r.phone)));
const act = (mutation: string, id: string) => herald.gql(`mutation($id: ID!) { ${mutation}(id: $id) { id status } }`, { id });

async function runningMailing(n: number) {
  const tag = `c${Math.random().toString(36).slice(2, 10)}`;
  const clientIds = await insertClients(herald, n, { tags: [tag] });
  const mailing = await createMailing({ filter: { tags: [tag] } });
  await waitFor(async () => (await stateOf(mailing.id)).stats.sent >= 2, 10_000, 'a few messages sent');
  return { mailing, clientIds, phones: await phonesOf(herald, clientIds) };
}

/** After a pause/cancel/delete returned at `returnedAt`, no request to these phones starts. */
async function expectNoRequestAfter(phones: Set<number>, returnedAt: number) {
  await sleep(700);
  const late = receivedFor(phones).filter((r) => r.at > returnedAt);
  expect(late).toEqual([]);
}

describe('operator control while running', () => {
  it('should pause: no new request after pauseMailing returns; resume: it finishes', async () => {
    const { mailing, phones } = await runningMailing(30);
    const res = await act('pauseMailing', mailing.id);
    const returnedAt = Date.now();
    expect(res.body.data.pauseMailing.status).toBe('PAUSED');
    await expectNoRequestAfter(phones, returnedAt);
    const paused = await stateOf(mailing.id);
    expect(paused.status).toBe('PAUSED');
    expect(paused.stats.pending).toBeGreaterThan(0);

    expect((await act('resumeMailing', mailing.id)).body.data.resumeMailing.status).toBe('RUNNING');
    const done = await untilStatus(mailing.id, 'COMPLETED');
    expect(done.stats).toMatchObject({ total: 30, sent: 30 });
  });

  it('should cancel: no new request after it returns, history kept, the rest CANCELLED', async () => {
    const { mailing, phones } = await runningMailing(30);
    const res = await act('cancelMailing', mailing.id);
    const returnedAt = Date.now();
    expect(res.body.data.cancelMailing.status).toBe('CANCELLED');
    await expectNoRequestAfter(phones, returnedAt);
    const state = await stateOf(mailing.id);
    expect(state.status).toBe('CANCELLED');
    expect(state.stats.sent).toBeGreaterThanOrEqual(2);
    expect(state.stats.pending).toBe(0);
    expect(state.stats.cancelled + state.stats.sent).toBe(30);
  });

  it('should delete: no new request after it returns, mailing and messages gone', async () => {
    const { mailing, phones } = await runningMailing(30);
    const res = await herald.gql(`mutation($id: ID!) { deleteMailing(id: $id) }`, { id: mailing.id });
    const returnedAt = Date.now();
    expect(res.body.data.deleteMailing).toBe(true);
    await expectNoRequestAfter(phones, returnedAt);
    expect((await herald.ok(MAILING_STATE, { id: mailing.id })).mailing).toBeNull();
    expect(await herald.sql`select id from messages where mailing_id = ${mailing.id}`).toEqual([]);
    expect(await herald.sql`select id from dispatch_leases where mailing_id = ${mailing.id}`).toEqual([]);
  });

  it('should refuse transitions that do not fit the status with CONFLICT', async () => {
    const mailing = await createMailing({ startAt: inMs(60_000), endAt: inMs(120_000) });
    expect(onlyError(await act('pauseMailing', mailing.id)).extensions?.code).toBe('CONFLICT');
    expect(onlyError(await act('resumeMailing', mailing.id)).extensions?.code).toBe('CONFLICT');
    expect((await act('cancelMailing', mailing.id)).body.data.cancelMailing.status).toBe('CANCELLED');
    expect(onlyError(await act('cancelMailing', mailing.id)).extensions?.code).toBe('CONFLICT');
    expect(onlyError(await act('pauseMailing', '999999')).extensions?.code).toBe('NOT_FOUND');
  });

  it('should apply a new text to the messages not yet sent, and refuse a new filter', async () => {
    const { mailing, phones } = await runningMailing(20);
    await herald.ok(`mutation($id: ID!) { updateMailing(id: $id, input: { text: "Second text" }) { id } }`, { id: mailing.id });
    const changedAt = Date.now();
    const refused = await herald.gql(`mutation($id: ID!) { updateMailing(id: $id, input: { filter: { tags: ["other"] } }) { id } }`, { id: mailing.id });
    expect(onlyError(refused).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter' });
    await untilStatus(mailing.id, 'COMPLETED');
    const received = receivedFor(phones);
    expect(received.filter((r) => r.at < changedAt - 50).every((r) => r.text === 'Hello')).toBe(true);
    expect(received.filter((r) => r.at > changedAt + 50).every((r) => r.text === 'Second text')).toBe(true);
    expect(received.some((r) => r.text === 'Second text')).toBe(true);
  });

  it('should take a deleted client\'s unsent message out of a running mailing and keep its sent ones', async () => {
    const { mailing, clientIds } = await runningMailing(30);
    await act('pauseMailing', mailing.id);
    const sentRows = await herald.sql`select client_id from messages where mailing_id = ${mailing.id} and status = 'SENT'`;
    const sentIds = new Set(sentRows.map((r) => Number(r.client_id)));
    const sent = [...sentIds][0];
    const unsent = clientIds.filter((id) => !sentIds.has(id)).at(-1)!;
    const [unsentPhone] = await phonesOf(herald, [unsent]);
    for (const id of [unsent, sent]) await herald.ok(`mutation($id: ID!) { deleteClient(id: $id) }`, { id: String(id) });
    expect((await stateOf(mailing.id)).stats.total).toBe(clientIds.length - 1);

    await act('resumeMailing', mailing.id);
    const done = await untilStatus(mailing.id, 'COMPLETED');
    expect(done.stats).toMatchObject({ total: clientIds.length - 1, sent: clientIds.length - 1 });
    const left = await herald.sql`select client_id, status from messages where mailing_id = ${mailing.id} and client_id in ${herald.sql([unsent, sent])}`;
    expect(left.map((r) => [Number(r.client_id), r.status])).toEqual([[sent, 'SENT']]);
    expect(receivedFor(new Set([unsentPhone]))).toEqual([]);
  });
});

describe('operator control while several lanes send', () => {
  // Many batches in flight side by side: a pause, cancel or delete must not chase them
  // through the whole mailing (it did, walking the rows one by one while the lanes claimed
  // ahead of it).
  let busy: TestHerald;
  let busyGateway: GatewaySimulator;
  beforeAll(async () => {
    const gw = await startTestGateway({ latencyMs: 100 });
    busyGateway = gw.simulator;
    busy = await startTestHerald({ ...gw.config, dispatch: { concurrency: 16 } });
  });
  afterAll(async () => {
    await busy?.stop();
    await busyGateway?.stop();
  });

  it.each([
    ['pauseMailing', 'PAUSED', 'pending'],
    ['cancelMailing', 'CANCELLED', 'cancelled'],
  ])('should %s within a batch\'s time, before the mailing is sent, and send nothing after', async (mutation, status, unsent) => {
    const tag = `c${Math.random().toString(36).slice(2, 10)}`;
    const clientIds = await insertClients(busy, 400, { tags: [tag] });
    const mailing = await createMailingFor(busy, { filter: { tags: [tag] } });
    const phones = await phonesOf(busy, clientIds);
    await waitFor(async () => (await mailingState(busy, mailing.id)).stats.sent >= 20, 10_000, 'a few batches sent');

    const res = await busy.gql(`mutation($id: ID!) { ${mutation}(id: $id) { id status } }`, { id: mailing.id });
    const returnedAt = Date.now();
    expect(res.body.data[mutation].status).toBe(status);
    const state = await mailingState(busy, mailing.id);
    // 400 messages at 16 in flight and 100 ms each take 2.5 s; the batches in flight, 0.1 s.
    expect(state.stats[unsent]).toBeGreaterThan(200);
    await sleep(500);
    expect(receivedFor(phones, busyGateway).filter((r) => r.at > returnedAt)).toEqual([]);
  });

  it('should delete within a batch\'s time and send nothing after', async () => {
    const tag = `c${Math.random().toString(36).slice(2, 10)}`;
    const clientIds = await insertClients(busy, 400, { tags: [tag] });
    const mailing = await createMailingFor(busy, { filter: { tags: [tag] } });
    const phones = await phonesOf(busy, clientIds);
    await waitFor(async () => (await mailingState(busy, mailing.id)).stats.sent >= 20, 10_000, 'a few batches sent');

    expect((await busy.gql(`mutation($id: ID!) { deleteMailing(id: $id) }`, { id: mailing.id })).body.data.deleteMailing).toBe(true);
    const returnedAt = Date.now();
    await sleep(500);
    const sent = receivedFor(phones, busyGateway);
    expect(sent.filter((r) => r.at > returnedAt)).toEqual([]);
    expect(sent.length).toBeLessThan(200);
  });
});

describe('send window in the client\'s local time', () => {
  // A window that is open now in Moscow (UTC+3) and shut in Vladivostok (UTC+10).
  function windowOpenInMoscow() {
    const hour = Math.floor(localSecondOfDay(Date.now(), 'Europe/Moscow') / 3600);
    const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
    return { from: hh(hour), to: hh(hour + 2) };
  }

  it('should send inside the window and hold the rest for their next local opening', async () => {
    const tag = `w${Date.now()}`;
    const moscow = await insertClients(herald, 3, { tags: [tag], timezone: 'Europe/Moscow' });
    const vladivostok = await insertClients(herald, 3, { tags: [tag], timezone: 'Asia/Vladivostok' });
    const window = windowOpenInMoscow();
    const mailing = await createMailing({ filter: { tags: [tag] }, sendWindow: window, endAt: inMs(3 * 24 * 3600_000) });
    expect(mailing.sendWindow).toEqual(window);

    await waitFor(async () => (await stateOf(mailing.id)).stats.sent === 3, 10_000, 'Moscow sent');
    await sleep(500);
    const rows = await herald.sql`select client_id, status, attempts, next_attempt_at from messages where mailing_id = ${mailing.id}`;
    const byClient = new Map(rows.map((r) => [Number(r.client_id), r]));
    for (const id of moscow) expect(byClient.get(id)!.status).toBe('SENT');
    const fromMinute = Number(window.from.slice(0, 2)) * 60;
    const opening = nextOpening(Date.now(), 'Asia/Vladivostok', { fromMinute, toMinute: (fromMinute + 120) % 1440 });
    for (const id of vladivostok) {
      const row = byClient.get(id)!;
      expect(row).toMatchObject({ status: 'PENDING', attempts: 0 });
      expect(Math.abs(row.next_attempt_at.getTime() - opening)).toBeLessThan(2_000);
    }
    expect((await stateOf(mailing.id)).status).toBe('RUNNING');
    await act('cancelMailing', mailing.id);
  });

  it('should expire a message whose next opening comes after endAt, sending nothing', async () => {
    const tag = `x${Date.now()}`;
    const clientIds = await insertClients(herald, 2, { tags: [tag], timezone: 'Asia/Vladivostok' });
    const mailing = await createMailing({ filter: { tags: [tag] }, sendWindow: windowOpenInMoscow(), endAt: inMs(30 * 60_000) });
    const done = await untilStatus(mailing.id, 'COMPLETED', 5_000);
    expect(done.stats).toMatchObject({ total: 2, expired: 2, sent: 0 });
    expect(receivedFor(await phonesOf(herald, clientIds))).toEqual([]);
  });

  it('should refuse a window that is not HH:MM or is empty', async () => {
    for (const [sendWindow, field] of [
      [{ from: '9:00', to: '21:00' }, 'sendWindow.from'],
      [{ from: '09:00', to: '24:00' }, 'sendWindow.to'],
      [{ from: '09:00', to: '09:00' }, 'sendWindow.to'],
    ] as const) {
      const res = await herald.gql(CREATE_MAILING, { input: { text: 'x', startAt: inMs(0), endAt: inMs(60_000), sendWindow } });
      expect(onlyError(res).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });
});
