import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { GatewaySimulator } from '../src/gateway/simulator';
import { CREATE_MAILING, inMs, insertClients, untilMailingStatus } from './support/fixtures';
import { startTestGateway } from './support/gateway';
import { ADMIN_TOKEN, startTestHerald, VIEWER_TOKEN, type TestHerald } from './support/herald';
import { parsePrometheus, valueOf } from './support/prometheus';
import { waitFor } from './support/wait';

// Issue 21, item 3: subscribers of one operation share one execution and one serialised
// frame per event. What shows it from outside: herald_live_executions and the
// 'live execution started' log line, and frames byte for byte the same but for their id.

const METRICS_TOKEN = 'metrics-token-for-tests-0123456';
const SECOND_ADMIN_TOKEN = 'second-admin-token-for-tests-0123';

let herald: TestHerald;
let gateway: GatewaySimulator;

beforeAll(async () => {
  const gw = await startTestGateway();
  gateway = gw.simulator;
  herald = await startTestHerald({
    ...gw.config,
    apiTokens: [
      { role: 'admin', token: ADMIN_TOKEN },
      { role: 'admin', token: SECOND_ADMIN_TOKEN },
      { role: 'viewer', token: VIEWER_TOKEN },
    ],
    metrics: { enabled: true, token: METRICS_TOKEN, cacheMs: 0 },
    dispatch: { concurrency: 10 },
  });
});
afterAll(async () => {
  await herald?.stop();
  await gateway?.stop();
});

const PROGRESS = `subscription($id: ID!) { mailingProgress(mailingId: $id) { status at stats { total sent } mailing { id actions } } }`;
const STATISTICS = `subscription { statisticsChanged { mailingCount } }`;

async function liveExecutions(): Promise<number> {
  const res = await fetch(`${herald.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  return valueOf(parsePrometheus(await res.text()), 'herald_live_executions');
}

const startedSince = (mark: number) => herald.logs.slice(mark).filter((l) => l.msg === 'live execution started').length;

/** A graphql-ws connection by hand, keeping every frame as it came (text and parsed). */
async function rawConnection(token = ADMIN_TOKEN) {
  const ws = new WebSocket(`${herald.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const texts: string[] = [];
  ws.on('message', (data) => texts.push(String(data)));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await waitFor(() => texts.some((t) => JSON.parse(t).type === 'connection_ack'), 5_000, 'connection_ack');
  const of = (id: string) => texts.map((t) => ({ text: t, frame: JSON.parse(t) })).filter((f) => f.frame.id === id);
  return {
    subscribe: (id: string, query: string, variables: Record<string, unknown> = {}) => ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } })),
    complete: (id: string) => ws.send(JSON.stringify({ id, type: 'complete' })),
    /** the `next` payloads of subscription `id`, as the text the server wrote */
    payloadTexts: (id: string) => of(id).filter((f) => f.frame.type === 'next').map((f) => f.text.slice(f.text.indexOf('"payload":'))),
    nexts: (id: string) => of(id).filter((f) => f.frame.type === 'next').map((f) => f.frame.payload),
    completed: (id: string) => of(id).some((f) => f.frame.type === 'complete'),
    close: () => ws.terminate(),
  };
}

async function mailingFor(n: number, input: Record<string, unknown> = {}) {
  const tag = `f${Math.random().toString(36).slice(2, 10)}`;
  await insertClients(herald, n, { tags: [tag] });
  const data = await herald.ok(CREATE_MAILING, { input: { text: 'Fan-out', startAt: inMs(-1000), endAt: inMs(120_000), filter: { tags: [tag] }, ...input } });
  return data.createMailing.id as string;
}

describe('live fan-out', () => {
  it('should run one execution for many dashboards on one mailing, with tokens of one role, and write each the same frames', async () => {
    gateway.set({ latencyMs: 20 });
    const id = await mailingFor(600, { startAt: inMs(1_500) });
    const mark = herald.logs.length;
    const sockets = await Promise.all(Array.from({ length: 8 }, (_, i) => rawConnection(i % 2 ? SECOND_ADMIN_TOKEN : ADMIN_TOKEN)));
    try {
      sockets.forEach((s, i) => s.subscribe(`dash-${i}`, PROGRESS, { id }));
      await waitFor(() => sockets.every((s, i) => s.nexts(`dash-${i}`).length >= 1), 5_000, 'every snapshot');
      expect(await liveExecutions()).toBe(1);
      await waitFor(() => sockets[0].nexts('dash-0').length >= 3, 10_000, 'a few events');
      // One who comes late gets the latest event at once, from the execution already running.
      const late = await rawConnection();
      late.subscribe('late', PROGRESS, { id });
      await waitFor(() => late.nexts('late').length >= 1, 2_000, 'the late snapshot');
      await waitFor(() => sockets.every((s, i) => s.completed(`dash-${i}`)) && late.completed('late'), 30_000, 'completion');
      expect(startedSince(mark)).toBe(1);
      const first = sockets[0].payloadTexts('dash-0');
      expect(first.at(-1)).toContain('"COMPLETED"');
      for (const [i, s] of sockets.entries()) expect(s.payloadTexts(`dash-${i}`)).toEqual(first);
      // The late one's events are the tail of everyone's, starting with one already sent.
      const lateTexts = late.payloadTexts('late');
      expect(first.slice(first.length - lateTexts.length)).toEqual(lateTexts);
      late.close();
      await waitFor(async () => (await liveExecutions()) === 0, 5_000, 'the execution to end');
    } finally {
      for (const s of sockets) s.close();
    }
  });

  it('should run one execution per role, each with what its role may see', async () => {
    const id = await mailingFor(5, { startAt: inMs(3_600_000), endAt: inMs(7_200_000) });
    const [admin, viewer] = await Promise.all([rawConnection(ADMIN_TOKEN), rawConnection(VIEWER_TOKEN)]);
    try {
      admin.subscribe('a', PROGRESS, { id });
      viewer.subscribe('v', PROGRESS, { id });
      await waitFor(() => admin.nexts('a').length >= 1 && viewer.nexts('v').length >= 1, 5_000, 'both snapshots');
      expect(await liveExecutions()).toBe(2);
      expect(admin.nexts('a')[0].data.mailingProgress.mailing.actions).toContain('CANCEL');
      expect(viewer.nexts('v')[0].data.mailingProgress.mailing.actions).toEqual([]);
      expect(viewer.nexts('v')[0].data.mailingProgress.stats).toEqual(admin.nexts('a')[0].data.mailingProgress.stats);
    } finally {
      admin.close();
      viewer.close();
    }
    await waitFor(async () => (await liveExecutions()) === 0, 5_000, 'both executions to end');
  });

  it('should keep the execution for those who stay when one leaves, and stop it when the last leaves', async () => {
    const mark = herald.logs.length;
    const [leaving, staying] = await Promise.all([rawConnection(), rawConnection()]);
    try {
      leaving.subscribe('s', STATISTICS);
      staying.subscribe('s', STATISTICS);
      await waitFor(() => leaving.nexts('s').length >= 1 && staying.nexts('s').length >= 1, 5_000, 'both snapshots');
      const before = staying.nexts('s')[0].data.statisticsChanged.mailingCount;
      leaving.complete('s');
      await new Promise((r) => setTimeout(r, 100));
      await mailingFor(1, { startAt: inMs(3_600_000), endAt: inMs(7_200_000) });
      await waitFor(() => staying.nexts('s').some((p) => p.data.statisticsChanged.mailingCount === before + 1), 5_000, 'the new count for the one who stayed');
      expect(leaving.nexts('s')).toHaveLength(1);
      expect(await liveExecutions()).toBe(1);
      staying.complete('s');
      await waitFor(() => herald.logs.slice(mark).some((l) => l.msg === 'live execution ended'), 5_000, 'the execution to end');
      expect(await liveExecutions()).toBe(0);
    } finally {
      leaving.close();
      staying.close();
    }
  });

  it('should give a dashboard that joins a running providersChanged the list at once', async () => {
    const [first, second] = await Promise.all([rawConnection(), rawConnection()]);
    try {
      first.subscribe('p', 'subscription { providersChanged { name state } }');
      await waitFor(() => first.nexts('p').length >= 1, 5_000, 'the first list');
      second.subscribe('p', 'subscription { providersChanged { name state } }');
      await waitFor(() => second.nexts('p').length >= 1, 2_000, "the second's list");
      expect(second.nexts('p')[0].data.providersChanged.map((p: { name: string }) => p.name)).toEqual(first.nexts('p')[0].data.providersChanged.map((p: { name: string }) => p.name));
    } finally {
      first.close();
      second.close();
    }
  });

  it('should answer NOT_FOUND to every subscriber of a mailing that does not exist, and keep nothing running', async () => {
    const sockets = await Promise.all([rawConnection(), rawConnection()]);
    try {
      for (const s of sockets) s.subscribe('x', PROGRESS, { id: '987654321' });
      await waitFor(() => sockets.every((s) => s.completed('x')), 5_000, 'both answers');
      for (const s of sockets) expect(s.nexts('x')[0].errors[0].extensions.code).toBe('NOT_FOUND');
      expect(await liveExecutions()).toBe(0);
    } finally {
      for (const s of sockets) s.close();
    }
  });

  it('should still follow a mailing to its end for a dashboard that joins after it completed', async () => {
    gateway.set({ latencyMs: 0 });
    const id = await mailingFor(20);
    await untilMailingStatus(herald, id, 'COMPLETED', 10_000);
    const s = await rawConnection();
    try {
      s.subscribe('done', PROGRESS, { id });
      await waitFor(() => s.completed('done'), 5_000, 'its completion');
      expect(s.nexts('done').at(-1).data.mailingProgress.status).toBe('COMPLETED');
    } finally {
      s.close();
    }
  });
});
