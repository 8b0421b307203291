import express, { type Router } from 'express';
import { describeDatabaseError } from '../db/errors';

/** A readiness check: resolves to null when fine, or to the reason it is not. */
export type ReadinessCheck = () => Promise<string | null>;

const CHECK_TIMEOUT_MS = 2_000;

/**
 * `GET /healthz`: the process is up and serving. `GET /readyz`: every readiness check passes
 * (the database answers and is migrated; later, the gateway accepts Herald). Each check has
 * a deadline, so a hung dependency makes /readyz answer 503, not hang.
 */
export function healthRoutes(checks: Record<string, ReadinessCheck>): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await withDeadline(check)] as const),
    );
    const failing = Object.fromEntries(results.filter(([, reason]) => reason !== null));
    const ready = Object.keys(failing).length === 0;
    res.status(ready ? 200 : 503).json(ready ? { status: 'ready' } : { status: 'not ready', failing });
  });
  return router;
}

async function withDeadline(check: ReadinessCheck): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
  });
  try {
    // The cause's code and first line, never drizzle's wrapper (it names the SQL).
    return await Promise.race([check().catch((error: unknown) => `failed: ${describeDatabaseError(error)}`), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
