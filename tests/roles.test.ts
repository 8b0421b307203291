import { readFileSync } from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewaySimulator } from '../src/gateway/simulator';
import { CREATE_MAILING, inMs, insertClients } from './support/fixtures';
import { GATEWAY_TOKEN, startTestGateway } from './support/gateway';
import { ADMIN_TOKEN, createTestDatabase } from './support/herald';
import { subscribe } from './support/live';
import { freePort } from './support/ports';
import { spawnHerald, type HeraldProcess } from './support/process';
import postgres from 'postgres';

const LISTENING = '"msg":"Herald is listening"';
let gateway: GatewaySimulator;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
const processes: HeraldProcess[] = [];
const ports: Record<'api' | 'worker1' | 'worker2', number> = { api: 0, worker1: 0, worker2: 0 };

beforeAll(async () => {
  const gw = await startTestGateway({ latencyMs: 20 });
  gateway = gw.simulator;
  database = await createTestDatabase();
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
  const common = {
    DATABASE_URL: database.url,
    SENDER_URL: gw.url,
    SENDER_TOKEN: GATEWAY_TOKEN,
    SENDER_CONCURRENCY: '8',
    DISPATCH_POLL_MS: '20',
    LOG_LEVEL: 'info',
    // A finished mailing's progress stays open while receipts may come: briefly here, so the
    // subscriber below sees it end soon after COMPLETED (no receipts come in this test).
    LIVE_RECEIPT_IDLE_MS: '500',
  };
  processes.push(spawnHerald({ ...common, HERALD_ROLE: 'api', PORT: String(ports.api), API_TOKENS: `admin:${ADMIN_TOKEN}` }));
  processes.push(spawnHerald({ ...common, HERALD_ROLE: 'worker', PORT: String(ports.worker1) }));
  processes.push(spawnHerald({ ...common, HERALD_ROLE: 'worker', PORT: String(ports.worker2) }));
  await Promise.all(processes.map((p) => p.waitFor(LISTENING, 90_000)));
});

afterAll(async () => {
  for (const p of processes) p.child.kill('SIGTERM');
  await Promise.all(processes.map((p) => p.exited));
  await gateway?.stop();
  await database?.drop();
});

describe('api and worker processes on one database', () => {
  it('should serve /healthz and /readyz on every role, and GraphQL only on api', async () => {
    for (const port of Object.values(ports)) {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    }
    const onWorker = await fetch(`http://127.0.0.1:${ports.worker1}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: '{ statistics { mailingCount } }' }),
    });
    expect(onWorker.status).toBe(404);
  });

  it('should run the workers at a lower CPU priority than the api (WORKER_NICE, 10 by default)', async () => {
    // /proc/<pid>/stat: the fields after the command's closing parenthesis; nice is the 19th field of the line.
    const niceOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
    const [api, ...workers] = processes.map((p) => niceOf(p.child.pid!));
    const own = os.getPriority();
    expect(api).toBe(own);
    expect(workers).toEqual([Math.min(19, own + 10), Math.min(19, own + 10)]);
  });

  it('should show a subscriber on the api process the progress that two workers make', async () => {
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    await insertClients({ sql }, 400, { tags: ['roles'] });
    await sql.end();
    const api = `http://127.0.0.1:${ports.api}`;
    const created = await fetch(`${api}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: CREATE_MAILING, variables: { input: { text: 'x', startAt: inMs(1_500), endAt: inMs(60_000), filter: { tags: ['roles'] } } } }),
    });
    const id = ((await created.json()) as any).data.createMailing.id;
    const sub = subscribe<{ mailingProgress: { status: string; stats: { sent: number } } }>(
      api,
      `subscription($id: ID!) { mailingProgress(mailingId: $id) { status stats { sent } } }`,
      { id },
    );
    try {
      await sub.finished;
      expect(sub.errors).toEqual([]);
      const statuses = sub.events.map((e) => e.data.mailingProgress.status);
      expect(statuses[0]).toBe('SCHEDULED');
      expect(statuses).toContain('RUNNING');
      expect(sub.events.at(-1)!.data.mailingProgress).toEqual({ status: 'COMPLETED', stats: { sent: 400 } });
      // Both workers sent some, the api process none, and no message went out twice.
      const sentBy = processes.map((p) => (p.output().match(/"msg":"message sent"/g) ?? []).length);
      expect(sentBy[0]).toBe(0);
      expect(sentBy[1]).toBeGreaterThan(0);
      expect(sentBy[2]).toBeGreaterThan(0);
      expect(sentBy[1] + sentBy[2]).toBe(400);
      expect(new Set(gateway.received.map((r) => r.msgId)).size).toBe(gateway.received.length);
    } finally {
      await sub.stop();
    }
  });
});
