// Applies Herald's fix for postgres.js 3.4.9's write-after-close crash to the installed
// driver (run by `npm install` as part of postinstall; idempotent). See README, "The
// database goes away", for why a patch and not a process-level handler.
//
// The bug (porsager/postgres #1154, #1208; fix proposed in PRs #1168/#1176): a write of
// under 1024 bytes is flushed by `setImmediate(nextWrite)`. If the socket closes before
// that immediate runs, `closed()` sets `socket = null` and clears the immediate, but a write
// queued after the close (the automatic ROLLBACK of a transaction whose query failed) sets a
// new one, and `nextWrite` then calls `null.write(...)`, outside any promise: the process
// dies. And since `closed()` clears the immediate without forgetting it, `write()` on the
// next socket believes a flush is already scheduled and never schedules one: that
// connection hangs for good.
//
// And a connection ended by the server (pg_terminate_backend, a shutdown: its FATAL error
// arrives just before the close) kept that error as `errorResponse`: the first query on the
// reconnected socket was failed with it (57P01, for a query that never ran).
//
// The patch: `nextWrite` on a closed connection fails what waits on it (CONNECTION_CLOSED,
// as the close itself does) instead of throwing; `closed()`/`terminate()` forget the
// cleared immediate and its buffer; `closed()` forgets the query it has just failed and its
// error. The exact text it replaces is checked: on any other
// version, or a file that changed, this script fails loudly instead of guessing.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const VERSION = '3.4.9';
const MARK = 'herald-patch: write after close';

const require = createRequire(import.meta.url);
let root;
try {
  // The package's exports hide package.json; its main file is cjs/src/index.js.
  root = path.resolve(path.dirname(require.resolve('postgres')), '../..');
} catch {
  console.error('patch-postgres: the postgres package is not installed');
  process.exit(1);
}
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

const replacements = [
  {
    what: 'nextWrite',
    from: `  function nextWrite(fn) {
    const x = socket.write(chunk, fn)`,
    to: `  function nextWrite(fn) {
    if (socket === null) { // ${MARK} (porsager/postgres#1154)
      const err = Errors.connection('CONNECTION_CLOSED', options)
      chunk = nextWriteTimer = null
      error(err)
      fn && fn(err)
      return false
    }
    const x = socket.write(chunk, fn)`,
  },
  {
    what: 'terminate',
    from: `    clearImmediate(nextWriteTimer)
    if (socket) {`,
    to: `    clearImmediate(nextWriteTimer)
    chunk = nextWriteTimer = null // ${MARK}
    if (socket) {`,
  },
  {
    what: 'closed, its last query',
    from: `    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
`,
    to: `    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
    query = results = errorResponse = null // ${MARK}: failed above; never the next socket's
    result = new Result()
`,
  },
  {
    what: 'closed',
    from: `    clearImmediate(nextWriteTimer)
    socket.removeListener('data', data)`,
    to: `    clearImmediate(nextWriteTimer)
    chunk = nextWriteTimer = null // ${MARK}
    socket.removeListener('data', data)`,
  },
];

const files = ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js'].map((f) => path.join(root, f));
let patched = 0;
for (const file of files) {
  let text = readFileSync(file, 'utf8');
  if (text.includes(MARK)) continue;
  if (version !== VERSION) {
    console.error(
      `patch-postgres: postgres ${version} is installed; Herald's patch is for ${VERSION}. ` +
        'Check whether this version fixes porsager/postgres#1154, then update or remove scripts/patch-postgres.mjs.',
    );
    process.exit(1);
  }
  for (const r of replacements) {
    const at = text.indexOf(r.from);
    if (at < 0 || text.indexOf(r.from, at + 1) >= 0) {
      console.error(`patch-postgres: ${path.relative(process.cwd(), file)} does not read as expected at ${r.what}; not patched`);
      process.exit(1);
    }
    text = text.replace(r.from, r.to);
  }
  writeFileSync(file, text);
  patched++;
}
if (patched > 0) console.log(`patch-postgres: patched postgres ${version} (${patched} files) against the write-after-close crash`);
