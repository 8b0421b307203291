import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startHerald } from '../src/main';
import { createLogger } from '../src/logger';
import { parseProvidersFile } from '../src/providers/providers.file';
import { SmppSimulator } from '../src/providers/smpp.simulator';
import { CREATE_MAILING, inMs, insertClients, untilMailingStatus } from './support/fixtures';
import { createTestDatabase, startTestHerald, testConfig } from './support/herald';
import { spawnHerald, spawnReady, terminate } from './support/process';
import { waitFor } from './support/wait';

// Providers as a deploy meets them: several worker processes sharing one provider's parts
// per second, the providers file read by a real process, its binds unbound at SIGTERM.

const PASSWORD = 'w0rkers';
const dir = mkdtempSync(path.join(tmpdir(), 'herald-providers-'));
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function providersJson(port: number, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    providers: [{ name: 'smsc', type: 'smpp', host: '127.0.0.1', port, systemId: 'herald', password: '${SMSC_PASSWORD}', sourceAddr: 'Herald', binds: 1, window: 10, ...extra }],
    routes: [{ providers: ['smsc'] }],
  });
}

async function smscSimulator() {
  const sim = new SmppSimulator({ systemId: 'herald', password: PASSWORD });
  const { port } = await sim.start();
  cleanups.push(() => sim.stop());
  return { sim, port };
}

describe('providers across processes', () => {
  it('should hold partsPerSecond for two workers together, in any second', async () => {
    const { sim, port } = await smscSimulator();
    const providers = parseProvidersFile(providersJson(port, { partsPerSecond: 20 }), { SMSC_PASSWORD: PASSWORD });
    const first = await startTestHerald({ providers, role: 'all' });
    cleanups.push(() => first.stop());
    const second = await startHerald(testConfig({ providers, databaseUrl: first.databaseUrl, role: 'worker' }), createLogger('silent'));
    cleanups.push(() => second.stop());
    await waitFor(async () => sim.bound.length === 2, 5_000, 'one bind per worker');

    const tag = `w${Math.random().toString(36).slice(2, 10)}`;
    // 50 one-part texts and 15 two-part ones: 80 parts, 4 s at 20 a second.
    await insertClients(first, 50, { tags: [tag] });
    await first.ok(CREATE_MAILING, { input: { text: 'Hi {{name}}', startAt: inMs(-1000), endAt: inMs(60_000), filter: { tags: [tag] } } });
    const tag2 = `${tag}l`;
    await insertClients(first, 15, { tags: [tag2] });
    const long = await first.ok(CREATE_MAILING, { input: { text: 'x'.repeat(200), startAt: inMs(-1000), endAt: inMs(60_000), filter: { tags: [tag2] } } });
    await untilMailingStatus(first, long.createMailing.id, 'COMPLETED', 30_000);
    await waitFor(async () => sim.submits.length >= 80, 30_000, 'every part at the SMSC');
    expect(sim.submits.filter((s) => s.status === 0)).toHaveLength(80);
    const times = sim.submits.map((s) => s.at).sort((a, b) => a - b);
    let most = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i] - times[j] >= 1_000) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(22);
    // Both workers sent a share (each through its own bind).
    const perBind = sim.binds.map((b) => b.submits.length).filter((n) => n > 0);
    expect(perBind.length).toBe(2);
    expect(new Set(sim.messages.map((m) => Number(m.destination))).size).toBe(65);
  }, 60_000);

  it('should unbind every session at SIGTERM', async () => {
    const { sim, port } = await smscSimulator();
    const file = path.join(dir, 'sigterm.json');
    writeFileSync(file, providersJson(port, { binds: 2 }));
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const herald = await spawnReady({ DATABASE_URL: database.url, PROVIDERS_FILE: file, SMSC_PASSWORD: PASSWORD });
    await waitFor(async () => sim.bound.length === 2, 10_000, 'two binds');
    await terminate(herald);
    expect(herald.proc.child.exitCode).toBe(0);
    expect(sim.unbinds).toBe(2);
    expect(sim.binds.every((b) => b.unbound)).toBe(true);
  }, 90_000);

  it.each([
    ['an unknown key', { providers: [{ name: 'a', type: 'http', url: 'http://127.0.0.1:1', token: 't', colour: 'red' }], routes: [{ providers: ['a'] }] }, /providers\[0\]: unknown key "colour"/],
    ['a route naming no provider', { providers: [{ name: 'a', type: 'http', url: 'http://127.0.0.1:1', token: 't' }], routes: [{ providers: ['b'] }] }, /routes\[0\]\.providers\[0\]: no provider named "b"/],
    ['a missing variable', { providers: [{ name: 'a', type: 'http', url: 'http://127.0.0.1:1', token: '${NOT_SET_ANYWHERE}' }], routes: [{ providers: ['a'] }] }, /providers\[0\]\.token: \$\{NOT_SET_ANYWHERE\} is not set/],
  ])('should refuse to start on a providers file with %s, in one line, exit 1', async (_, content, message) => {
    const file = path.join(dir, `bad-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(content));
    const proc = spawnHerald({ PROVIDERS_FILE: file, DATABASE_URL: 'postgres://127.0.0.1:1/none' });
    expect(await proc.exited).toBe(1);
    const lines = proc.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Herald cannot start: invalid configuration: PROVIDERS_FILE: /);
    expect(lines[0]).toMatch(message);
  }, 30_000);

  it('should refuse to start in production with no provider configured, unless the simulator is asked for', async () => {
    const env = { NODE_ENV: 'production', API_TOKENS: 'admin:aaaaaaaaaaaaaaaa1', DATABASE_URL: 'postgres://127.0.0.1:1/none' };
    const refused = spawnHerald(env);
    expect(await refused.exited).toBe(1);
    expect(refused.output().trim().split('\n')).toEqual([
      'Herald cannot start: invalid configuration: PROVIDERS_FILE or SENDER_URL: required when NODE_ENV=production (no provider is configured); SENDER_SIMULATOR=true sends to the built-in simulator instead',
    ]);
    // Asked for explicitly, it gets past the configuration (and stops at the missing database).
    const simulated = spawnHerald({ ...env, SENDER_SIMULATOR: 'true' });
    expect(await simulated.exited).toBe(1);
    expect(simulated.output()).toMatch(/does not answer/);
    expect(simulated.output()).not.toMatch(/invalid configuration/);
  }, 30_000);
});
