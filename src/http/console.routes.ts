import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { PROJECT_ROOT } from '../common/project-root';
import type { Logger } from '../logger';

/** Where `npm ci` leaves the console's Vite build (console/, built by the root postinstall). */
export const CONSOLE_DIST = path.join(PROJECT_ROOT, 'console', 'dist');

// The console's own routes: a reload or a shared link on one of them gets the app.
const APP_PATHS = ['/mailings', '/mailings/*rest', '/clients', '/clients/*rest', '/inbound', '/webhooks', '/webhooks/*rest'];

/**
 * The operator console at `/`: its built files, from this process, so that it works on a
 * machine with no internet and calls the API on its own origin. Hashed assets may be cached
 * for good; index.html never, so that a new build is picked up at the next load.
 */
export function consoleRoutes(log: Logger, dist = CONSOLE_DIST): Router {
  const router = express.Router();
  const index = path.join(dist, 'index.html');
  if (!existsSync(index)) {
    log.warn({ dist }, 'the operator console is not built (npm ci builds it; or run npm run console:build)');
    router.get(['/', ...APP_PATHS], (_req, res) => {
      res.status(503).type('text').send('The operator console is not built: run `npm ci` (or `npm run console:build`) and restart Herald.\n');
    });
    return router;
  }
  const sendIndex = (res: express.Response) => res.sendFile(index, { headers: { 'cache-control': 'no-cache' } });
  router.get(['/', '/index.html', ...APP_PATHS], (_req, res) => sendIndex(res));
  router.use('/assets', express.static(path.join(dist, 'assets'), { immutable: true, maxAge: '1y', fallthrough: false }));
  router.use(express.static(dist, { index: false }));
  return router;
}
