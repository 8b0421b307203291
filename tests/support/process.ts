import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
 * Herald as `npm start` runs it (`tsx src/main.ts`), as a child process with exactly the
 * given environment plus PATH and HOME: nothing of the test runner's own environment leaks
 * in (DATABASE_URL in particular).
 */
export function spawnHerald(env: Record<string, string>): HeraldProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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
