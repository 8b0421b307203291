import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_BEHAVIOUR, type GatewaySimulator } from '../src/gateway/simulator';
import { CREATE_MAILING, inMs, insertClients } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { ADMIN_TOKEN, startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';
import { subscribe } from './support/live';
import { waitFor } from './support/wait';

let herald: TestHerald;
let gateway: GatewaySimulator;

beforeAll(async () => {
  const gw = await startTestGateway();
  gateway = gw.simulator;
  herald = await startTestHerald({ ...gw.config, dispatch: { concurrency: 20 } });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});
afterEach(() => gateway.set(DEFAULT_BEHAVIOUR));

const PROGRESS = `subscription($id: ID!) {
  mailingProgress(mailingId: $id) {
    mailingId status ratePerSecond etaSeconds atRisk at
    stats { total pending sent failed expired cancelled }
  }
}`;

type Progress = { mailingProgress: { mailingId: string; status: string; ratePerSecond: number; etaSeconds: number | null; atRisk: boolean; at: string; stats: Record<string, number> } };

async function mailingFor(n: number, input: Record<string, unknown> = {}) {
  const tag = `s${Math.random().toString(36).slice(2, 10)}`;
  await insertClients(herald, n, { tags: [tag] });
  const data = await herald.ok(CREATE_MAILING, {
    input: { text: 'Live', startAt: inMs(-1000), endAt: inMs(120_000), filter: { tags: [tag] }, ...input },
  });
  return data.createMailing.id as string;
}

function expectMonotonic(events: { data: Progress }[]) {
  for (let i = 1; i < events.length; i++) {
    const [a, b] = [events[i - 1].data.mailingProgress.stats, events[i].data.mailingProgress.stats];
    for (const key of ['total', 'sent', 'failed', 'expired', 'cancelled']) {
      expect(b[key], `${key} went from ${a[key]} to ${b[key]} at event ${i}`).toBeGreaterThanOrEqual(a[key]);
    }
  }
}

describe('mailingProgress', () => {
  it('should send a snapshot at once, then progress, then a final event, and complete', async () => {
    gateway.set({ latencyMs: 100 });
    const id = await mailingFor(200, { startAt: inMs(800) });
    const subscribedAt = Date.now();
    const sub = subscribe<Progress>(herald.url, PROGRESS, { id });
    try {
      await sub.finished;
      expect(sub.errors).toEqual([]);
      const [first, ...rest] = sub.events;
      expect(first.at - subscribedAt).toBeLessThan(1_000);
      expect(first.data.mailingProgress).toMatchObject({ mailingId: id, status: 'SCHEDULED', stats: { total: 0 } });
      const last = sub.events.at(-1)!.data.mailingProgress;
      expect(last).toMatchObject({ status: 'COMPLETED', stats: { total: 200, sent: 200, pending: 0 }, etaSeconds: 0, atRisk: false });
      // Something in between: the mailing was seen running, with a rate.
      const running = rest.filter((e) => e.data.mailingProgress.status === 'RUNNING');
      expect(running.length).toBeGreaterThan(0);
      expect(running.some((e) => e.data.mailingProgress.ratePerSecond > 0)).toBe(true);
      expectMonotonic(sub.events);
      // Logged like any operation once it completes.
      await waitFor(() => herald.logs.some((l) => l.msg === 'graphql operation' && l.transport === 'websocket' && l.operationType === 'subscription' && l.outcome === 'ok'), 2_000, 'the operation log line');
    } finally {
      await sub.stop();
    }
  });

  it('should coalesce a fast mailing to a few events a second, counts never going backwards', async () => {
    gateway.set({ latencyMs: 5 });
    const id = await mailingFor(1_500, { startAt: inMs(500) });
    const sub = subscribe<Progress>(herald.url, PROGRESS, { id });
    try {
      await sub.finished;
      const events = sub.events;
      expect(events.at(-1)!.data.mailingProgress.stats.sent).toBe(1_500);
      // 1500 messages, each a change: events are spaced by the 250 ms interval instead.
      const gaps = events.slice(2).map((e, i) => e.at - events[i + 1].at);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(150);
      const seconds = (events.at(-1)!.at - events[0].at) / 1000;
      expect(events.length).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 3);
      expectMonotonic(events);
    } finally {
      await sub.stop();
    }
  });

  it('should give a paused mailing no ETA: the rate it had does not move it', async () => {
    gateway.set({ latencyMs: 150 });
    const id = await mailingFor(300);
    const sub = subscribe<Progress>(herald.url, PROGRESS, { id });
    try {
      await waitFor(() => sub.events.some((e) => e.data.mailingProgress.status === 'RUNNING' && e.data.mailingProgress.etaSeconds !== null), 10_000, 'a running event with an ETA');
      await herald.ok(`mutation($id: ID!) { pauseMailing(id: $id) { id } }`, { id });
      await waitFor(() => sub.events.some((e) => e.data.mailingProgress.status === 'PAUSED'), 5_000, 'the PAUSED event');
      const paused = sub.events.filter((e) => e.data.mailingProgress.status === 'PAUSED').map((e) => e.data.mailingProgress);
      expect(paused[0].stats.pending).toBeGreaterThan(0);
      expect(paused.map((p) => p.etaSeconds)).toEqual(paused.map(() => null));
    } finally {
      await sub.stop();
      await herald.ok(`mutation($id: ID!) { cancelMailing(id: $id) { id } }`, { id });
    }
  });

  it('should flag a mailing at risk when it cannot finish before its end', async () => {
    gateway.set({ down: true });
    const id = await mailingFor(5);
    const sub = subscribe<Progress>(herald.url, PROGRESS, { id });
    try {
      await waitFor(() => sub.events.some((e) => e.data.mailingProgress.atRisk), 12_000, 'an atRisk event');
      const risky = sub.events.find((e) => e.data.mailingProgress.atRisk)!.data.mailingProgress;
      expect(risky).toMatchObject({ status: 'RUNNING', etaSeconds: null, stats: { pending: 5 } });
    } finally {
      await sub.stop();
      await herald.ok(`mutation($id: ID!) { cancelMailing(id: $id) { id } }`, { id });
    }
  });

  it('should refuse a subscription sent over HTTP with BAD_REQUEST pointing to the websocket', async () => {
    const res = await herald.gql(`subscription { mailingsChanged { kind } }`);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/graphql-ws/), extensions: { code: 'BAD_REQUEST' } })]);
  });

  it('should answer NOT_FOUND for a mailing that does not exist', async () => {
    const sub = subscribe<Progress>(herald.url, PROGRESS, { id: '987654321' });
    await sub.finished;
    await sub.stop();
    expect(sub.events).toEqual([]);
    expect(sub.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })]);
  });

  it('should give subscribers a fresh snapshot after the database connection is lost', async () => {
    gateway.set({ latencyMs: 200 });
    const id = await mailingFor(200);
    const sub = subscribe<Progress>(herald.url, PROGRESS, { id }, VIEWER_TOKEN);
    try {
      await waitFor(() => sub.events.length >= 1, 5_000, 'the snapshot');
      // Cut the LISTEN connection from the server side, as a failover would.
      await herald.sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'herald-events' and datname = current_database()`;
      await waitFor(() => herald.logs.some((l) => l.msg.startsWith('event channel reconnected')), 10_000, 'the reconnect');
      const after = sub.events.length;
      await waitFor(() => sub.events.length > after, 5_000, 'a snapshot after the reconnect');
      expect(sub.errors).toEqual([]);
    } finally {
      await sub.stop();
      await herald.ok(`mutation($id: ID!) { cancelMailing(id: $id) { id } }`, { id });
    }
  });
});

describe('the changed objects themselves, for client caches', () => {
  it('should carry the mailing in every progress event, with that event\'s status and counts', async () => {
    gateway.set({ latencyMs: 50 });
    const id = await mailingFor(60, { startAt: inMs(500) });
    const sub = subscribe<{ mailingProgress: { status: string; stats: { total: number; sent: number }; mailing: { id: string; status: string; text: string; stats: { total: number; sent: number } } } }>(
      herald.url,
      `subscription($id: ID!) { mailingProgress(mailingId: $id) { status stats { total sent } mailing { id status text stats { total sent } } } }`,
      { id },
    );
    try {
      await sub.finished;
      expect(sub.errors).toEqual([]);
      expect(sub.events.length).toBeGreaterThan(2);
      for (const { data } of sub.events) {
        const p = data.mailingProgress;
        expect(p.mailing).toEqual({ id, status: p.status, text: 'Live', stats: p.stats });
      }
      expect(sub.events.at(-1)!.data.mailingProgress.mailing).toMatchObject({ status: 'COMPLETED', stats: { total: 60, sent: 60 } });
    } finally {
      await sub.stop();
    }
  });

  it('should carry the mailing as it is now in each lifecycle event, and null once it is deleted', async () => {
    const sub = subscribe<{ mailingsChanged: { mailingId: string; kind: string; mailing: { id: string; status: string; text: string } | null } }>(
      herald.url,
      `subscription { mailingsChanged { mailingId kind mailing { id status text } } }`,
    );
    try {
      await new Promise((r) => setTimeout(r, 300)); // let the subscription settle
      const id = await mailingFor(2, { startAt: inMs(60_000), endAt: inMs(120_000) });
      await herald.ok(`mutation($id: ID!) { updateMailing(id: $id, input: { text: "Changed" }) { id } }`, { id });
      await herald.ok(`mutation($id: ID!) { deleteMailing(id: $id) }`, { id });
      await waitFor(() => sub.events.some((e) => e.data.mailingsChanged.kind === 'DELETED' && e.data.mailingsChanged.mailingId === id), 5_000, 'the delete');
      const mine = sub.events.map((e) => e.data.mailingsChanged).filter((c) => c.mailingId === id);
      expect(mine.map((c) => c.kind)).toEqual(['CREATED', 'UPDATED', 'DELETED']);
      expect(mine[1].mailing).toEqual({ id, status: 'SCHEDULED', text: 'Changed' });
      expect(mine[2].mailing).toBeNull();
    } finally {
      await sub.stop();
    }
  });

  it('should carry each changed message itself', async () => {
    const id = await mailingFor(10, { startAt: inMs(500) });
    const sub = subscribe<{ messageStatusChanged: { messageId: string; message: { id: string; status: string; mailingId: string; attempts: number } }[] }>(
      herald.url,
      `subscription($id: ID!) { messageStatusChanged(mailingId: $id) { messageId message { id status mailingId attempts } } }`,
      { id },
    );
    try {
      await waitFor(() => new Set(sub.events.flatMap((e) => e.data.messageStatusChanged.map((m) => m.messageId))).size === 10, 10_000, 'all 10 messages');
      for (const change of sub.events.flatMap((e) => e.data.messageStatusChanged)) {
        expect(change.message).toEqual({ id: change.messageId, status: 'SENT', mailingId: id, attempts: 1 });
      }
    } finally {
      await sub.stop();
    }
  });
});

describe('statisticsChanged', () => {
  it('should send the overall statistics at once, then again as messages are sent', async () => {
    const sub = subscribe<{ statisticsChanged: { mailingCount: number; messages: { total: number; sent: number } } }>(
      herald.url,
      `subscription { statisticsChanged { mailingCount messages { total sent } } }`,
      {},
      VIEWER_TOKEN,
    );
    try {
      await waitFor(() => sub.events.length >= 1, 5_000, 'the snapshot');
      const first = sub.events[0].data.statisticsChanged;
      expect(first).toEqual((await herald.ok(`{ statistics { mailingCount messages { total sent } } }`)).statistics);
      await mailingFor(25);
      await waitFor(
        () => sub.events.some((e) => e.data.statisticsChanged.messages.sent === first.messages.sent + 25),
        10_000,
        'the 25 new messages counted as sent',
      );
      expect(sub.events.at(-1)!.data.statisticsChanged.mailingCount).toBe(first.mailingCount + 1);
      expect(sub.errors).toEqual([]);
    } finally {
      await sub.stop();
    }
  });
});

describe('clientsChanged', () => {
  it('should tell a subscriber that the directory changed, for a created, updated, imported and deleted client', async () => {
    const sub = subscribe<{ clientsChanged: { at: string } }>(herald.url, `subscription { clientsChanged { at } }`);
    try {
      await new Promise((r) => setTimeout(r, 300)); // let the subscription settle
      const seen = async (write: () => Promise<unknown>) => {
        const before = sub.events.length;
        await write();
        await waitFor(() => sub.events.length > before, 5_000, 'a clientsChanged event');
      };
      let id = '';
      await seen(async () => {
        id = (await herald.ok(`mutation { createClient(input: { phone: "79990001122", timezone: "UTC" }) { id } }`)).createClient.id;
      });
      await seen(() => herald.ok(`mutation($id: ID!) { updateClient(id: $id, input: { tags: ["x"] }) { id } }`, { id }));
      await seen(() => herald.ok(`mutation { importClients(input: [{ phone: "79990001123", timezone: "UTC" }]) { imported } }`));
      await seen(() => herald.ok(`mutation($id: ID!) { deleteClient(id: $id) }`, { id }));
      expect(sub.errors).toEqual([]);
    } finally {
      await sub.stop();
    }
  });
});

describe('messageStatusChanged and mailingsChanged', () => {
  it('should stream batches of message changes of one mailing', async () => {
    const id = await mailingFor(40, { startAt: inMs(700) });
    const sub = subscribe<{ messageStatusChanged: { messageId: string; clientId: string; status: string; attempts: number; lastError: string | null; at: string }[] }>(
      herald.url,
      `subscription($id: ID!) { messageStatusChanged(mailingId: $id) { messageId clientId status attempts lastError at } }`,
      { id },
    );
    try {
      await waitFor(async () => (await herald.ok(`query($id: ID!) { mailing(id: $id) { status } }`, { id })).mailing.status === 'COMPLETED', 10_000, 'completion');
      await waitFor(() => new Set(sub.events.flatMap((e) => e.data.messageStatusChanged.map((m) => m.messageId))).size === 40, 5_000, 'all 40 messages');
      const changes = sub.events.flatMap((e) => e.data.messageStatusChanged);
      const rows = await herald.sql`select id, client_id from messages where mailing_id = ${id}`;
      expect(new Set(changes.map((c) => c.messageId))).toEqual(new Set(rows.map((r) => String(r.id))));
      for (const c of changes) expect(c).toMatchObject({ status: 'SENT', attempts: 1, lastError: null });
      expect(sub.events.length).toBeLessThan(40); // batched, not one event per message
    } finally {
      await sub.stop();
    }
  });

  it('should tell a dashboard every lifecycle event of any mailing', async () => {
    const sub = subscribe<{ mailingsChanged: { mailingId: string; kind: string; status: string | null } }>(
      herald.url,
      `subscription { mailingsChanged { mailingId kind status at } }`,
    );
    try {
      await new Promise((r) => setTimeout(r, 300)); // let the subscription settle
      const id = await mailingFor(3, { startAt: inMs(60_000), endAt: inMs(120_000) });
      await herald.ok(`mutation($id: ID!) { updateMailing(id: $id, input: { startAt: "${inMs(-500)}" }) { id } }`, { id });
      await waitFor(async () => (await herald.ok(`query($id: ID!) { mailing(id: $id) { status } }`, { id })).mailing.status === 'COMPLETED', 10_000, 'completion');
      await herald.ok(`mutation($id: ID!) { deleteMailing(id: $id) }`, { id });
      await waitFor(() => sub.events.some((e) => e.data.mailingsChanged.kind === 'DELETED' && e.data.mailingsChanged.mailingId === id), 5_000, 'the delete');
      const kinds = sub.events.filter((e) => e.data.mailingsChanged.mailingId === id).map((e) => e.data.mailingsChanged.kind);
      expect(kinds).toEqual(['CREATED', 'UPDATED', 'STARTED', 'COMPLETED', 'DELETED']);
    } finally {
      await sub.stop();
    }
  });

  it('should keep serving everyone else while one subscriber stops reading', async () => {
    gateway.set({ latencyMs: 0 });
    const id = await mailingFor(3_000, { startAt: inMs(1_500) });
    const FEED = `subscription($id: ID!) { messageStatusChanged(mailingId: $id) { messageId clientId status attempts lastError at } }`;
    // A raw graphql-ws client whose socket stops reading right after subscribing...
    const ws = new WebSocket(`${herald.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    let received = 0;
    ws.on('message', () => received++);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    await waitFor(() => received >= 1, 5_000, 'connection_ack');
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: FEED, variables: { id } } }));
    // ...and one that reads.
    const reader = subscribe<{ messageStatusChanged: { messageId: string }[] }>(herald.url, FEED, { id });
    await new Promise((r) => setTimeout(r, 300));
    (ws as unknown as { _socket: { pause: () => void } })._socket.pause();
    try {
      await waitFor(async () => (await herald.ok(`query($id: ID!) { mailing(id: $id) { status } }`, { id })).mailing.status === 'COMPLETED', 30_000, 'completion');
      await waitFor(() => new Set(reader.events.flatMap((e) => e.data.messageStatusChanged.map((m) => m.messageId))).size === 3_000, 10_000, 'the reader to see every message');
      expect((await herald.ok(`{ statistics { mailingCount } }`)).statistics.mailingCount).toBeGreaterThan(0);
    } finally {
      ws.terminate();
      await reader.stop();
    }
  });
});
