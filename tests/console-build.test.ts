import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CONSOLE = fileURLToPath(new URL('../console', import.meta.url));

// The console's Vite build, into a directory of its own (console/dist, which Herald serves
// to the browser tests, is left alone): no chunk over Vite's 500 kB warning.
describe('the console build', () => {
  it('should split the libraries out of the first chunk: no chunk over 500 kB, no warning', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'herald-console-build-'));
    try {
      const vite = spawn(process.execPath, [path.join(CONSOLE, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', out, '--emptyOutDir'], { cwd: CONSOLE, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      vite.stdout.on('data', (c: Buffer) => void (output += c.toString()));
      vite.stderr.on('data', (c: Buffer) => void (output += c.toString()));
      expect(await new Promise((resolve) => vite.once('exit', resolve)), output).toBe(0);
      expect(output).not.toMatch(/larger than 500 kB/);
      const assets = path.join(out, 'assets');
      const sizes = await Promise.all((await readdir(assets)).filter((f) => f.endsWith('.js')).map(async (f) => ({ f, kB: (await stat(path.join(assets, f))).size / 1000 })));
      expect(sizes.length).toBeGreaterThan(2);
      expect(sizes.filter((s) => s.kB > 500)).toEqual([]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);
});
