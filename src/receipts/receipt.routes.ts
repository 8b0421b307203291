import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../db/errors';
import type { Logger } from '../logger';
import type { ProviderCallbackGuard } from '../providers/provider-callback.guard';
import type { ProviderInbox, Receipt, ReceiptResult } from '../providers/provider-inbox';

/** Receipts in one request at most. */
export const MAX_RECEIPTS_PER_REQUEST = 1_000;
/** A batch of 1,000 receipts with errors is well under this. */
const BODY_LIMIT = '1mb';

const receiptBody = z.object({
  // The id Herald sent the message under (in the path and body of its send), as a string or a number.
  id: z.union([z.string().min(1).max(100), z.number().int().positive().transform(String)]),
  status: z.enum(['delivered', 'undelivered', 'expired', 'rejected']),
  error: z.string().max(500).optional(),
  at: z.iso.datetime({ offset: true }).optional(),
});
const batchBody = z.array(receiptBody).min(1, 'an empty batch').max(MAX_RECEIPTS_PER_REQUEST, `at most ${MAX_RECEIPTS_PER_REQUEST} receipts in one request`);

type ReceiptBody = z.infer<typeof receiptBody>;

/** `expired` and `rejected` are UNDELIVERED too; lastError says which, and the provider's error after it. */
function toReceipt(r: ReceiptBody): Receipt {
  if (r.status === 'delivered') return { providerMessageId: r.id, status: 'DELIVERED', error: null, at: r.at ? new Date(r.at) : null };
  return { providerMessageId: r.id, status: 'UNDELIVERED', error: r.error ? `${r.status}: ${r.error}` : r.status, at: r.at ? new Date(r.at) : null };
}

const STATUS_OF: Record<ReceiptResult, number> = { applied: 200, parked: 202, unknown: 404 };

/**
 * POST /providers/<name>/receipts: an HTTP provider's delivery receipts, one JSON object or
 * an array of them. The guard answers first (404 no such provider, 401 not its token), so
 * nothing of the body is read for a stranger; a malformed body is 400 with the reason, and
 * then nothing of the batch is applied. One receipt: 200 applied (or already), 202 parked
 * (its message is not recorded yet), 404 unknown id. A batch: 200 with each one's result.
 */
export function receiptRoutes(guard: ProviderCallbackGuard, inbox: Pick<ProviderInbox, 'receipts'>, log: Logger): Router {
  const router = express.Router();
  const admit = (req: Request, res: Response, next: NextFunction) => {
    const name = String(req.params.name);
    const verdict = guard.check(name, req.headers.authorization);
    if (verdict.ok) return next();
    if (verdict.status === 401) {
      log.warn({ provider: name, hasToken: req.headers.authorization !== undefined }, 'receipts refused: not the provider’s token');
      res.set('www-authenticate', 'Bearer');
    }
    res.status(verdict.status).json({ error: verdict.reason });
  };
  router.post(
    '/providers/:name/receipts',
    admit,
    express.json({ limit: BODY_LIMIT, type: () => true, strict: true }),
    async (req: Request, res: Response) => {
      const provider = String(req.params.name);
      // Checked as one or as a batch by its shape, so that the reason names the field, not "one of two shapes".
      const parsed = Array.isArray(req.body) ? batchBody.safeParse(req.body) : receiptBody.safeParse(req.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
        return void res.status(400).json({ error: `${where ? `${where.replace(/^\./, '')}: ` : ''}${issue.message}` });
      }
      const batch = Array.isArray(parsed.data);
      const items = batch ? (parsed.data as ReceiptBody[]) : [parsed.data as ReceiptBody];
      let results: ReceiptResult[];
      try {
        results = await inbox.receipts(provider, items.map(toReceipt));
      } catch (err) {
        const unavailable = isDatabaseUnavailable(err);
        log.error({ err, provider, receipts: items.length }, 'applying receipts failed');
        // 503: the provider should send them again (nothing was applied).
        return void res.status(unavailable ? 503 : 500).json({ error: unavailable ? 'the database is unavailable; send again later' : 'applying the receipts failed' });
      }
      if (batch) return void res.status(200).json({ results: items.map((r, i) => ({ id: r.id, result: results[i] })) });
      res.status(STATUS_OF[results[0]]).json({ id: items[0].id, result: results[0] });
    },
  );
  // The body parser's refusals (not JSON, too large) as the same small JSON answers.
  router.use('/providers/:name/receipts', (err: { status?: number; type?: string; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (!err || typeof err.status !== 'number') return next(err);
    const reason = err.type === 'entity.too.large' ? `the body is larger than ${BODY_LIMIT}` : err.type === 'entity.parse.failed' ? 'the body is not JSON' : (err.message ?? 'a malformed request');
    res.status(err.status).json({ error: reason });
  });
  return router;
}
