import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN } from './herald';
import { freePort } from './ports';
import { waitFor } from './wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type HeraldProcess = {
  child: ChildProcess;
  /** stdout and stderr so far */
  output: () => string;
  /** stdout alone so far (the JSON log lines, never split by a write to stderr) */
  stdout: () => string;
  /** resolves with the exit code */
  exited: Promise<number | null>;
  waitFor: (text: string | RegExp, timeoutMs?: number) => Promise<void>;
};

/**
 * Herald as `npm start` runs it (`node dist/herald.mjs`, the bundle the global setup built
 * from the source as it is), as a child process with exactly the given environment plus PATH
 * and HOME: nothing of the test runner's own environment leaks in (DATABASE_URL in particular).
 */
export function spawnHerald(env: Record<string, string>): HeraldProcess {
  const child = spawn(process.execPath, ['dist/herald.mjs'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const l of listeners) l();
  };
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    stdout: () => stdout,
    exited,
    waitFor: (text, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const matches = () => (typeof text === 'string' ? output.includes(text) : text.test(output));
        const check = () => {
          if (matches()) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${text}; output so far:\n${output}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (!matches()) reject(new Error(`Herald exited before ${text}; output:\n${output}`));
        });
        check();
      }),
  };
}

/** Whether something accepts TCP connections at `url` (http://host:port) or on a loopback port. */
export function portAccepts(target: string | number): Promise<boolean> {
  const { hostname, port } = typeof target === 'number' ? { hostname: '127.0.0.1', port: String(target) } : new URL(target);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One GraphQL request over HTTP to a Herald at `url`: its status and body, whatever they are. */
export async function postGraphql(url: string, query: string, variables: Record<string, unknown> = {}, token: string = ADMIN_TOKEN) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, any> }[] } };
}

/**
 * A Herald process seen as the fixtures see an in-process one (`gql`, `ok`), so that
 * support/fixtures' createMailing, mailingState and untilMailingStatus work on it too.
 */
export function clientOf(url: string, token: string = ADMIN_TOKEN) {
  return {
    url,
    gql: (query: string, variables: Record<string, unknown> = {}) => postGraphql(url, query, variables, token),
    ok: async (query: string, variables: Record<string, unknown> = {}) => {
      const res = await postGraphql(url, query, variables, token);
      if (res.status !== 200 || res.body.errors || !res.body.data) throw new Error(`GraphQL failed (${res.status}): ${JSON.stringify(res.body)}`);
      return res.body.data;
    },
  };
}

export type RunningHerald = { proc: HeraldProcess; url: string };

/**
 * Spawns Herald with the given environment (API_TOKENS defaults to the tests' admin token)
 * on a free port and waits until /readyz says ready.
 */
export async function spawnReady(env: Record<string, string>): Promise<RunningHerald> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawnHerald({ API_TOKENS: `admin:${ADMIN_TOKEN}`, ...env, PORT: String(port) });
  let exitCode: number | null | undefined;
  void proc.exited.then((code) => (exitCode = code));
  await waitFor(
    async () => {
      if (exitCode !== undefined) throw new Error(`Herald exited (${exitCode}) before it was ready:\n${proc.output()}`);
      return fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    },
    60_000,
    `Herald on port ${port} to be ready`,
  );
  return { proc, url };
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function terminate(running: RunningHerald | HeraldProcess | undefined, graceMs = 8_000): Promise<void> {
  const proc = running && 'proc' in running ? running.proc : running;
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** The JSON log lines of a process with the given msg. */
export function logLines(proc: HeraldProcess, msg: string): Record<string, any>[] {
  return proc
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>)
    .filter((line) => line.msg === msg);
}
