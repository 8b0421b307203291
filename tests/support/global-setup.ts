import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { createLogger } from '../../src/logger';
import { freePort } from './ports';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL server where each test file creates a database of its own. */
    adminDatabaseUrl: string;
  }
}

/**
 * With DATABASE_URL set, tests use that server (its user must be allowed to create
 * databases); without it, one embedded PostgreSQL serves the whole run, as `npm start` would.
 */
export default async function setup(project: TestProject) {
  // The bundle every spawned Herald runs (tests/support/process.ts), built afresh: a test
  // never runs a stale dist/ left from before a change to src/.
  execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: 'inherit' });
  if (process.env.DATABASE_URL) {
    project.provide('adminDatabaseUrl', process.env.DATABASE_URL);
    return;
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'herald-test-pg-'));
  const pg = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    log: createLogger('silent'),
    database: 'postgres',
  });
  project.provide('adminDatabaseUrl', pg.url);
  return async () => {
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
