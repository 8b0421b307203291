import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { freePort } from './ports';
import { sleep } from './wait';

export const PGBOUNCER_BIN = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';

export type PgBouncer = {
  port: number;
  /** `url` (a database on the target server) as reached through this pgbouncer */
  urlThrough: (url: string) => string;
  /** a query on its admin console (SHOW POOLS, SHOW CLIENTS, SHOW SERVERS…), as rows */
  admin: (command: string) => Promise<Record<string, unknown>[]>;
  /** its output so far (-v: connections and errors) */
  output: () => string;
  stop: () => Promise<void>;
};

/**
 * A real PgBouncer (Debian's package) in transaction mode in front of the PostgreSQL server
 * of `target` (any database on it: the `*` fallback entry), on a free port of 127.0.0.1,
 * with its ini and userlist in a temporary directory, run in the foreground as a child
 * process. Clients are trusted (the userlist names the target's user); PgBouncer logs in to
 * the server with the target's user and password, so it fronts the embedded PostgreSQL
 * (scram-sha-256) as well as the machine's (trust).
 *
 * The settings are those docs/operations.md ("Behind PgBouncer") recommends, with timeouts
 * shortened as the tests shorten Herald's.
 */
export async function startPgBouncer(
  target: string,
  opts: {
    settings?: Record<string, string | number>;
    /** run on each new server connection: DB_STATEMENT_TIMEOUT_MS, which Herald cannot send through a pooler */
    statementTimeoutMs?: number;
  } = {},
): Promise<PgBouncer> {
  const t = new URL(target);
  const user = decodeURIComponent(t.username || 'postgres');
  const password = decodeURIComponent(t.password);
  const dir = await mkdtemp(path.join(tmpdir(), 'herald-pgbouncer-'));
  const port = await freePort();
  const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const server = [
    `host=${t.hostname}`,
    `port=${t.port || 5432}`,
    `user=${user}`,
    ...(password ? [`password=${quote(password)}`] : []),
    ...(opts.statementTimeoutMs ? [`connect_query=${quote(`set statement_timeout = ${opts.statementTimeoutMs}`)}`] : []),
  ].join(' ');
  const settings: Record<string, string | number> = {
    listen_addr: '127.0.0.1',
    listen_port: port,
    unix_socket_dir: '',
    auth_type: 'trust',
    auth_file: path.join(dir, 'userlist.txt'),
    admin_users: user,
    pool_mode: 'transaction',
    max_client_conn: 1000,
    default_pool_size: 40,
    // What a client may send at start-up beyond what PgBouncer tracks: nothing Herald needs.
    ignore_startup_parameters: 'extra_float_digits',
    // In place of the idle_in_transaction_session_timeout Herald does not send on a pooled
    // URL; query_timeout a backstop above statementTimeoutMs (connect_query).
    idle_transaction_timeout: 30,
    query_timeout: 40,
    // A client waiting for a server connection while the server is away gives up in time.
    query_wait_timeout: 20,
    server_connect_timeout: 2,
    server_login_retry: 1,
    ...opts.settings,
  };
  const ini = [
    '[databases]',
    `* = ${server}`,
    '',
    '[pgbouncer]',
    ...Object.entries(settings).map(([k, v]) => `${k} = ${v}`),
    // PgBouncer refuses to run as root: it switches to this user instead.
    ...(process.getuid?.() === 0 ? ['user = postgres'] : []),
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'pgbouncer.ini'), ini);
  await writeFile(path.join(dir, 'userlist.txt'), `"${user}" "${password.replace(/"/g, '""')}"\n`);
  // Read by PgBouncer after it has become the postgres user.
  await chmod(dir, 0o755);

  let output = '';
  const child: ChildProcess = spawn(PGBOUNCER_BIN, ['-q', '-v', path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => void (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => void (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));

  // Up once it accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (gone) throw new Error(`pgbouncer exited at start-up:\n${output}`);
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pgbouncer did not listen on ${port} within 10 s:\n${output}`);
    }
    await sleep(50);
  }

  const urlThrough = (url: string) => {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    return u.toString();
  };
  const admin = async (command: string) => {
    // The admin console speaks the simple query protocol only, and has no pg_type to read.
    const sql = postgres(`postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/pgbouncer`, { max: 1, fetch_types: false, onnotice: () => {} });
    try {
      return [...(await sql.unsafe(command).simple())] as Record<string, unknown>[];
    } finally {
      await sql.end({ timeout: 2 });
    }
  };
  return {
    port,
    urlThrough,
    admin,
    output: () => output,
    stop: async () => {
      if (!gone) {
        child.kill('SIGTERM'); // immediate shutdown (SIGINT would wait for its clients)
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
