import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { printHeraldSchema } from '../src/graphql/print-schema';

describe('schema.graphql', () => {
  it('should match the schema the type-graphql classes build (run `npm run schema:emit` after a change)', async () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(await printHeraldSchema()).toBe(committed);
  });
});

describe('drizzle/ migrations', () => {
  it('should hold every change of src/db/schema.ts (run `npm run db:generate` after a change)', async () => {
    const { cp, mkdir, mkdtemp, readdir, rm } = await import('node:fs/promises');
    const { execFile } = await import('node:child_process');
    const root = new URL('..', import.meta.url).pathname;
    // drizzle-kit takes --out relative to the working directory only.
    await mkdir(`${root}tmp`, { recursive: true });
    const out = path.relative(root, await mkdtemp(`${root}tmp/drizzle-check-`));
    try {
      await cp(`${root}drizzle`, `${root}${out}`, { recursive: true });
      const before = await readdir(`${root}${out}`);
      const output = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['node_modules/drizzle-kit/bin.cjs', 'generate', '--dialect', 'postgresql', '--schema', './src/db/schema.ts', '--out', out],
          { cwd: root },
          (error, stdout, stderr) => (error ? reject(error) : resolve(stdout + stderr)),
        ),
      );
      expect(output).toContain('No schema changes');
      expect(await readdir(`${root}${out}`)).toEqual(before);
    } finally {
      await rm(`${root}${out}`, { recursive: true, force: true });
    }
  });
});
