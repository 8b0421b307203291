import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/ports';
import { portAccepts } from './support/process';
import { waitFor } from './support/wait';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The pids of every process started for this DATA_DIR (node, the postmaster and its
 * backends: they inherit the environment), found through /proc: whatever `npm start`
 * left behind after it exited.
 */
async function processesOf(dataDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const [environ, cmdline] = await Promise.all([readFile(`/proc/${entry}/environ`, 'utf8'), readFile(`/proc/${entry}/cmdline`, 'utf8')]);
      if (environ.split('\0').includes(`DATA_DIR=${dataDir}`) || cmdline.includes(dataDir)) pids.push(Number(entry));
    } catch {
      // gone already, or not ours to read
    }
  }
  return pids;
}

// `npm start` as a person (or a process manager) runs it: the signal goes to npm's own pid,
// not to a process group, and Herald must still stop in order and exit 0.
describe.each(['SIGTERM', 'SIGINT'] as const)('%s to the npm start process (embedded PostgreSQL)', (signal) => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'herald-stop-'));
  });
  afterAll(async () => {
    // Orphans of a failed run must not outlive the test.
    for (const pid of await processesOf(dataDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('should stop Herald and its PostgreSQL gracefully and exit 0 within 15 s', async () => {
    const port = await freePort();
    const pgPort = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(pgPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout.on('data', (c: Buffer) => void (output += c.toString()));
    npm.stderr.on('data', (c: Buffer) => void (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    await waitFor(async () => {
      if (npm.exitCode !== null) throw new Error(`npm start exited (${npm.exitCode}):\n${output}`);
      return fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    }, 90_000, 'Herald to be ready');
    expect(await portAccepts(pgPort)).toBe(true);

    const signalledAt = Date.now();
    npm.kill(signal);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000).unref());
    const code = await Promise.race([exited, timeout]);
    const tookMs = Date.now() - signalledAt;

    expect(code, output).toBe(0);
    expect(tookMs).toBeLessThan(15_000);
    expect(await portAccepts(port)).toBe(false);
    expect(await portAccepts(pgPort)).toBe(false);
    expect(await processesOf(dataDir)).toEqual([]);
    expect(output).toContain(`"signal":"${signal}","msg":"shutting down"`);
    expect(output).toContain('"part":"embedded PostgreSQL","msg":"stopped"');
  }, 120_000);
});
