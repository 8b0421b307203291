import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from '../logger';
import type { ProviderCallbackGuard } from '../providers/provider-callback.guard';
import type { Reply } from '../providers/provider-inbox';
import { replyProblem, type InboundService } from './inbound.service';

/** Replies one post may carry at most (a batch). */
export const MAX_REPLIES_PER_POST = 1_000;

/**
 * POST /providers/<name>/inbound: a provider hands Herald replies, as `{"from", "text", "at"?}`
 * or an array of them, with its receiptToken as a bearer token (ProviderCallbackGuard: 404
 * unknown provider, 401 wrong token). 400 with the reason when any item is malformed, and
 * then nothing is kept; 200 `{"results": [{"action"}]}`, one per item in order, for a single
 * object too (one shape to read).
 */
export function inboundRoutes(guard: ProviderCallbackGuard, inbound: InboundService, log: Logger): Router {
  const router = express.Router();
  // The token before the body: an unknown caller never gets a JSON parse.
  router.post('/providers/:name/inbound', (req, res, next) => {
    const verdict = guard.check(req.params.name, req.headers.authorization);
    if (verdict.ok) return next();
    if (verdict.status === 401) log.warn({ provider: req.params.name }, 'inbound post refused: wrong or missing token');
    res.status(verdict.status).json({ error: verdict.reason });
  });
  router.post('/providers/:name/inbound', express.json({ limit: '2mb', strict: false, type: () => true }), async (req, res) => {
    const provider = req.params.name;
    const body: unknown = req.body;
    const items = Array.isArray(body) ? body : [body];
    if (items.length === 0) return void res.status(400).json({ error: 'an empty array holds no reply' });
    if (items.length > MAX_REPLIES_PER_POST) return void res.status(400).json({ error: `at most ${MAX_REPLIES_PER_POST} replies per post` });
    const replies: Reply[] = [];
    for (const [i, item] of items.entries()) {
      const where = Array.isArray(body) ? `item ${i}: ` : '';
      if (typeof item !== 'object' || item === null || Array.isArray(item)) return void res.status(400).json({ error: `${where}must be an object {"from", "text", "at"?}` });
      const { from, text, at } = item as Record<string, unknown>;
      const problem = replyProblem(from, text, at);
      if (problem) return void res.status(400).json({ error: where + problem });
      replies.push({ from: from as string, text: text as string, at: typeof at === 'string' ? new Date(at) : null });
    }
    const actions = await inbound.receiveAll(provider, replies);
    res.status(200).json({ results: actions.map((action) => ({ action })) });
  });
  // A body that is not JSON (or too large): the reason, in this route's shape.
  router.use('/providers/:name/inbound', (err: { status?: unknown; type?: unknown }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err?.type === 'entity.parse.failed') return void res.status(400).json({ error: 'the body is not valid JSON' });
    if (err?.type === 'entity.too.large') return void res.status(413).json({ error: 'the body is too large' });
    if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) return void res.status(err.status).json({ error: 'bad request' });
    next(err);
  });
  return router;
}
