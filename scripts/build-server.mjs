// `npm run build`: Herald's server as one JavaScript file, dist/herald.mjs, which `npm start`,
// compose and the tests' child processes run with plain `node`. Plain JavaScript (no tsx) so
// that it runs before anything else is built, and fast enough (~0.15 s) that `npm start` runs
// it every time: what starts is always the source as it is, never a stale build.
//
// Why not `node --import tsx src/main.ts` as before: tsx transpiles in a loader thread of its
// own (a second V8 heap) and keeps every module's source map for its stack traces; a process
// run that way held ~70 MB more at rest (an api 179 → 112 MB after a full GC, docs/performance.md#memory).
// The libraries stay outside the bundle (node_modules, as installed): only Herald's own code
// is joined. A source map is written beside it for `node --enable-source-maps` (docs/operations.md).
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = performance.now();
const { outputFiles } = await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts'],
  outfile: 'dist/herald.mjs',
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // Herald's code reads its own class and function names nowhere, but type-graphql names
  // GraphQL types after classes where no name is given: keep them as written.
  keepNames: true,
  logLevel: 'warning',
  write: false,
});
// Each file written beside its place and renamed over it: a Herald starting while another
// `npm start` (or a test) rebuilds reads the old file or the new one, never half of one.
for (const file of outputFiles) {
  mkdirSync(path.dirname(file.path), { recursive: true });
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}
if (process.argv.includes('--verbose')) console.error(`dist/herald.mjs built in ${Math.round(performance.now() - started)} ms`);
