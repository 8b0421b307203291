import { chmod, mkdir, mkdtemp, rm, stat, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import smpp from 'smpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedMigrations, migrateDatabase } from '../src/db/migrate';
import { createTestDatabase, ADMIN_TOKEN } from './support/herald';
import { freePort } from './support/ports';
import { portAccepts, postGraphql, spawnHerald, type HeraldProcess } from './support/process';
import { waitFor } from './support/wait';

const LISTENING = '"msg":"Herald is listening"';

const post = (url: string, token: string, query: string) => postGraphql(url, query, {}, token);

async function stopped(herald: HeraldProcess, signal: NodeJS.Signals = 'SIGTERM') {
  herald.child.kill(signal);
  return herald.exited;
}

describe('npm start with no DATABASE_URL (embedded PostgreSQL, development token)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let pgPort: number;
  let url: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'herald-start-'));
    pgPort = await freePort();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = { DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(pgPort) };
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('should start, serve GraphQL with the token it made, and stop its PostgreSQL on SIGTERM', async () => {
    const herald = spawnHerald(env);
    try {
      await herald.waitFor(LISTENING, 90_000);
      const tokenFile = path.join(dataDir, 'admin-token');
      const token = (await readFile(tokenFile, 'utf8')).trim();
      expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
      // It says how to use the token, without printing it.
      expect(herald.output()).toContain(tokenFile);
      expect(herald.output()).not.toContain(token);

      // With no SENDER_URL it sends to a simulator in the same process, and says so.
      expect(herald.output()).toMatch(/messages go to a built-in gateway simulator at http:\/\/127\.0\.0\.1:\d+/);
      // The start banner: where the console is, and where the simulator's controls are on Herald's own port.
      expect(herald.output()).toContain(`  Console:   ${url}/\n`);
      expect(herald.output()).toContain(`Its controls: ${url}/_sim/stats`);
      expect((await fetch(`${url}/_sim/stats`)).status).toBe(200);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' });
      expect(herald.output()).not.toContain('postgres.js is not patched'); // the install applied it
      const created = await post(url, token, 'mutation { createClient(input: { phone: "79990000001", timezone: "UTC" }) { id } }');
      expect(created.body.data.createClient.id).toBeDefined();
      const endAt = new Date(Date.now() + 60_000).toISOString();
      const mailing = await post(url, token, `mutation { createMailing(input: { text: "hi", startAt: "${new Date().toISOString()}", endAt: "${endAt}" }) { id } }`);
      const id = mailing.body.data.createMailing.id;
      await waitFor(async () => (await post(url, token, `{ mailing(id: "${id}") { status } }`)).body.data.mailing.status === 'COMPLETED', 15_000, 'the mailing to complete through the simulator');
      expect((await post(url, token, `{ mailing(id: "${id}") { stats { sent } } }`)).body.data.mailing.stats.sent).toBe(1);
      expect(await portAccepts(pgPort)).toBe(true);
    } finally {
      expect(await stopped(herald)).toBe(0);
    }
    expect(await portAccepts(pgPort)).toBe(false);
    expect(herald.output()).toContain('"part":"embedded PostgreSQL","msg":"stopped"');
  });

  it('should keep data and token across restarts, and adopt a PostgreSQL left running by kill -9', async () => {
    const first = spawnHerald(env);
    await first.waitFor(LISTENING, 90_000);
    expect(await stopped(first, 'SIGKILL')).toBe(null);
    expect(await portAccepts(pgPort)).toBe(true); // the orphaned postmaster still runs

    const second = spawnHerald(env);
    try {
      await second.waitFor(LISTENING, 90_000);
      expect(second.output()).toContain('adopting an embedded PostgreSQL');
      const token = (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
      const clients = await post(url, token, '{ clients { totalCount edges { node { phone } } } }');
      expect(clients.body.data.clients.edges).toEqual([{ node: { phone: '79990000001' } }]);
    } finally {
      expect(await stopped(second)).toBe(0);
    }
    expect(await portAccepts(pgPort)).toBe(false);
  });
});

describe('start-up refusals', () => {
  it('should refuse to start in production without API_TOKENS', async () => {
    const herald = spawnHerald({ NODE_ENV: 'production', DATABASE_URL: 'postgres://127.0.0.1:1/none' });
    expect(await herald.exited).toBe(1);
    expect(herald.output()).toMatch(/API_TOKENS: required when NODE_ENV=production/);
  });

  it('should print every configuration problem and exit 1', async () => {
    const herald = spawnHerald({ PORT: 'abc', LOG_LEVEL: 'loud', API_TOKENS: 'admin:secretsecretsecret1,boss:x' });
    expect(await herald.exited).toBe(1);
    const output = herald.output();
    expect(output).toMatch(/PORT:/);
    expect(output).toMatch(/LOG_LEVEL:/);
    expect(output).toMatch(/API_TOKENS:/);
    expect(output).not.toContain('secretsecretsecret1');
    expect(output).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('start-up failures: one clear line and exit 1, no stack', () => {
  const NO_STACK = /\n\s+at /;

  async function failed(env: Record<string, string>) {
    const herald = spawnHerald({ API_TOKENS: `admin:${ADMIN_TOKEN}`, DB_CONNECT_TIMEOUT_MS: '1000', ...env });
    expect(await herald.exited).toBe(1);
    const output = herald.output();
    expect(output).not.toMatch(NO_STACK);
    const line = output.split('\n').find((l) => l.startsWith('Herald cannot start: '));
    expect(line, output).toBeDefined();
    return { line: line!, output };
  }

  it('should say so when the database does not answer, without its password', async () => {
    const { line, output } = await failed({ DATABASE_URL: 'postgres://herald:s3cretpassw0rd@127.0.0.1:1/herald' });
    expect(line).toMatch(/the database at 127\.0\.0\.1:1\/herald does not answer \(.*ECONNREFUSED.*\); check DATABASE_URL/);
    expect(output).not.toContain('s3cretpassw0rd');
  });

  it('should say so when the port is in use', async () => {
    const database = await createTestDatabase();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const { line } = await failed({ DATABASE_URL: database.url, PORT: String(port) });
      expect(line).toBe(`Herald cannot start: 127.0.0.1:${port} is already in use by another process (set PORT or HOST)`);
    } finally {
      taken.close();
      await database.drop();
    }
  });

  it('should say so when the migrations cannot be applied', async () => {
    const database = await createTestDatabase();
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    await sql`create table clients (something_else int)`;
    await sql.end();
    try {
      const { line } = await failed({ DATABASE_URL: database.url, PORT: String(await freePort()) });
      expect(line).toMatch(/^Herald cannot start: applying the database migrations failed: .*clients.*already exists/);
    } finally {
      await database.drop();
    }
  });

  it('should say so when the embedded PostgreSQL cannot start (its port is taken)', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'herald-start-'));
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const pgPort = (taken.address() as { port: number }).port;
    try {
      const { line } = await failed({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), PORT: String(await freePort()) });
      expect(line).toMatch(new RegExp(`the embedded PostgreSQL exited with 1: .*\\(is port ${pgPort} in use\\? set EMBEDDED_PG_PORT\\)`));
    } finally {
      taken.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);

  // As root, the embedded server runs as the `postgres` user: a DATA_DIR under a 0700
  // directory (a home such as /root) is out of its reach, where initdb used to die with a
  // raw `spawn initdb EACCES` stack.
  it.runIf(process.getuid?.() === 0)('should start as root with DATA_DIR under a 0700 directory, its data where the postgres user can reach it', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'herald-home-'));
    await chmod(home, 0o700);
    const dataDir = path.join(home, 'project', '.data');
    await mkdir(dataDir, { recursive: true });
    const relocated = path.join(tmpdir(), `herald-pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
    const port = await freePort();
    const herald = spawnHerald({ DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(await freePort()), API_TOKENS: `admin:${ADMIN_TOKEN}` });
    try {
      await herald.waitFor(LISTENING, 90_000);
      expect(herald.output()).toContain('the postgres user cannot reach DATA_DIR');
      expect(herald.output()).not.toMatch(/EACCES/);
      expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()).toEqual({ status: 'ready' });
      const created = await post(`http://127.0.0.1:${port}`, ADMIN_TOKEN, 'mutation { createClient(input: { phone: "79990000009", timezone: "UTC" }) { id } }');
      expect(created.body.data.createClient.id).toBeDefined();
      expect((await stat(path.join(relocated, 'pg', 'PG_VERSION'))).isFile()).toBe(true);
    } finally {
      expect(await stopped(herald)).toBe(0);
      await rm(home, { recursive: true, force: true });
      await rm(relocated, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('migrations', () => {
  it('should apply once when several processes migrate the same database at the same time', async () => {
    const database = await createTestDatabase();
    try {
      await Promise.all([1, 2, 3, 4].map(() => migrateDatabase(database.url)));
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      const [{ n }] = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      const tables = await sql`select tablename from pg_tables where schemaname = 'public' order by 1`;
      await sql.end();
      expect(n).toBe(expectedMigrations);
      expect(tables.map((t) => t.tablename)).toEqual([
        'audiences', 'clients', 'cost_windows', 'dispatch_leases', 'frequency_ledger', 'inbound_messages', 'mailing_stats', 'mailings', 'messages', 'opt_outs',
        'parked_receipts', 'provider_budgets', 'provider_states', 'test_sends', 'webhook_deliveries', 'webhook_events', 'webhooks',
      ]);
    } finally {
      await database.drop();
    }
  });

  it('should let two Herald processes start at once on one existing database', async () => {
    const database = await createTestDatabase();
    const ports = [await freePort(), await freePort()];
    const heralds = ports.map((port) =>
      spawnHerald({ DATABASE_URL: database.url, PORT: String(port), API_TOKENS: `admin:${ADMIN_TOKEN}` }),
    );
    try {
      await Promise.all(heralds.map((h) => h.waitFor(LISTENING, 90_000)));
      for (const port of ports) {
        expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()).toEqual({ status: 'ready' });
      }
      const created = await post(`http://127.0.0.1:${ports[0]}`, ADMIN_TOKEN, 'mutation { createClient(input: { phone: "79990000002", timezone: "UTC" }) { id } }');
      const seen = await post(`http://127.0.0.1:${ports[1]}`, ADMIN_TOKEN, `{ client(id: "${created.body.data.createClient.id}") { phone } }`);
      expect(seen.body.data.client).toEqual({ phone: '79990000002' });
    } finally {
      const codes = await Promise.all(heralds.map((h) => stopped(h)));
      await database.drop();
      expect(codes, heralds.map((h) => h.output()).join('\n----\n')).toEqual([0, 0]);
    }
  });
});

describe('npm run gateway', () => {
  it('should run the simulator on its own, checking the token and recording what it got', async () => {
    const { spawn } = await import('node:child_process');
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/gateway.ts'], {
      cwd: new URL('..', import.meta.url),
      env: { PATH: process.env.PATH ?? '', GATEWAY_PORT: String(port), GATEWAY_TOKEN: 'sim-token' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      await waitFor(() => output.includes('gateway simulator at'), 20_000, 'the simulator to start');
      const send = (token: string) =>
        fetch(`http://127.0.0.1:${port}/send/7`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ id: 7, phone: 79161234567, text: 'hi' }),
        });
      expect((await send('wrong')).status).toBe(401);
      const ok = await send('sim-token');
      expect(await ok.json()).toEqual({ code: 0, message: 'OK' });
      const stats = (await (await fetch(`http://127.0.0.1:${port}/_sim/stats`)).json()) as { requests: number; accepted: number };
      expect(stats).toMatchObject({ requests: 2, accepted: 1 });
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('should run the SMPP simulator with --smpp: its credentials, its submits, and its behaviour changed through the control port', async () => {
    const { spawn } = await import('node:child_process');
    const [port, controlPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/gateway.ts', '--smpp'], {
      cwd: new URL('..', import.meta.url),
      env: { PATH: process.env.PATH ?? '', SMPP_PORT: String(port), SMPP_CONTROL_PORT: String(controlPort), SMPP_PASSWORD: 'sim-pw' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sessions: smpp.Session[] = [];
    try {
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      await waitFor(() => output.includes('smpp simulator at'), 20_000, 'the SMPP simulator to start');
      expect(output).not.toContain('gateway simulator at'); // --smpp: the SMPP one alone
      expect(output).not.toContain('sim-pw');
      const bind = (password: string) =>
        new Promise<{ session: smpp.Session; status: number }>((resolve) => {
          const session = smpp.connect({ host: '127.0.0.1', port }, () =>
            session.bind_transceiver({ system_id: 'herald', password }, (pdu) => resolve({ session, status: pdu.command_status })),
          );
          session.on('error', () => {});
          sessions.push(session);
        });
      expect((await bind('wrong')).status).toBe(smpp.errors.ESME_RBINDFAIL);
      const { session, status } = await bind('sim-pw');
      expect(status).toBe(0);
      const submit = (destination: string) =>
        new Promise<smpp.PDU>((resolve) => session.send(new smpp.PDU('submit_sm', { destination_addr: destination, short_message: { message: 'hi' } }), resolve));
      const accepted = await submit('79161234567');
      expect(accepted.command_status).toBe(0);
      expect(accepted.message_id).toMatch(/^[0-9a-f]+$/);
      const control = `http://127.0.0.1:${controlPort}/_sim`;
      const behaviour = await fetch(`${control}/behaviour`, { method: 'POST', body: JSON.stringify({ forceStatus: smpp.errors.ESME_RTHROTTLED }) });
      expect(behaviour.status).toBe(200);
      expect((await submit('79161234568')).command_status).toBe(smpp.errors.ESME_RTHROTTLED);
      expect((await fetch(`${control}/behaviour`, { method: 'POST', body: JSON.stringify({ forceStatuss: 0 }) })).status).toBe(400);
      const stats = (await (await fetch(`${control}/stats`)).json()) as Record<string, unknown>;
      expect(stats).toMatchObject({ submits: 2, accepted: 1, destinations: 2, bound: 1, refusedBinds: 1 });
      await fetch(`${control}/reset`, { method: 'POST' });
      expect(await (await fetch(`${control}/stats`)).json()).toMatchObject({ submits: 0, destinations: 0, bound: 1 });
    } finally {
      for (const session of sessions) session.destroy();
      child.kill('SIGTERM');
    }
  });
});
