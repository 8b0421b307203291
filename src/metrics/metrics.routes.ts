import { timingSafeEqual, createHash } from 'node:crypto';
import express, { type Router } from 'express';
import type { Logger } from '../logger';
import type { Metrics } from './metrics';

/**
 * GET /metrics in Prometheus text format. With a token, a scrape must send it as a bearer
 * token (Prometheus: `authorization: { credentials: … }`); compared as digests, so the time
 * taken says nothing about the token.
 */
export function metricsRoutes(metrics: Metrics, token: string | null, log: Logger): Router {
  const router = express.Router();
  const expected = token === null ? null : digest(`Bearer ${token}`);
  router.get('/metrics', async (req, res) => {
    if (expected && !(typeof req.headers.authorization === 'string' && timingSafeEqual(digest(req.headers.authorization.trim()), expected))) {
      res.set('www-authenticate', 'Bearer').status(401).type('text').send('a bearer token (METRICS_TOKEN) is required\n');
      return;
    }
    try {
      const body = await metrics.registry.metrics();
      res.set('content-type', metrics.registry.contentType).set('cache-control', 'no-store').send(body);
    } catch (err) {
      log.error({ err }, 'collecting metrics failed');
      res.status(500).type('text').send('collecting metrics failed\n');
    }
  });
  return router;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
