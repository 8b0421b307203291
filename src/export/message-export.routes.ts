import express, { type Response, type Router } from 'express';
import type { Sql } from 'postgres';
import { assertMayRun } from '../auth/access';
import type { Authenticator } from '../auth/authenticator';
import { CodedError } from '../common/errors';
import { toRowId } from '../common/ids';
import type { Logger } from '../logger';
import { csvRecord } from './csv';
import { EXPORT_HEADER, exportRecord, mailingExists, messagesForExport } from './message-export.store';

const BATCH = 200;
const CHUNK_CHARS = 16 * 1024;

/**
 * GET /mailings/{id}/messages.csv: every message of a mailing as CSV, streamed from a
 * cursor one batch at a time, waiting for the client to take each (constant memory for a
 * million rows). The same bearer tokens and access rule as GraphQL (a read: any role).
 */
export function messageExportRoutes(sql: Sql, auth: Authenticator, log: Logger): Router {
  const router = express.Router();
  router.get('/mailings/:id/messages.csv', async (req, res) => {
    try {
      assertMayRun(await auth.authenticate(req.headers.authorization), 'query');
    } catch (error) {
      if (!(error instanceof CodedError)) throw error;
      log.warn({ transport: 'http', hasToken: req.headers.authorization !== undefined }, 'unauthenticated request refused');
      // The status the error carries: 401 for no valid token, 403 for one without the role.
      return void refuse(res, error.extensions.http?.status ?? 403, error);
    }
    const mailingId = toRowId(req.params.id);
    if (mailingId === undefined || !(await mailingExists(sql, mailingId))) {
      return void res.status(404).json({ errors: [{ message: 'no mailing with this id', extensions: { code: 'NOT_FOUND' } }] });
    }
    res.status(200).set({
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="mailing-${mailingId}-messages.csv"`,
      'cache-control': 'no-store',
    });
    const started = performance.now();
    let rows = 0;
    try {
      res.write(csvRecord(EXPORT_HEADER));
      let gone = false;
      for await (const batch of messagesForExport(sql, mailingId, BATCH)) {
        let chunk = '';
        for (const m of batch) {
          chunk += exportRecord(m);
          // Written in small pieces: a string this size dies young, where a batch's worth would
          // be a large object that only a full collection frees.
          if (chunk.length >= CHUNK_CHARS) {
            if ((gone = !(await writeOrGone(res, chunk)))) break;
            chunk = '';
          }
        }
        rows += batch.length;
        // Leaving the loop closes the cursor: a client that went away stops the read.
        if (gone || (chunk && !(await writeOrGone(res, chunk)))) break;
      }
      res.end();
      log.info({ mailingId, rows, durationMs: Math.round(performance.now() - started) }, 'messages exported');
    } catch (err) {
      log.error({ err, mailingId, rows }, 'exporting messages failed');
      // The status is gone already: cutting the response short tells the client it is incomplete.
      res.destroy();
    }
  });
  return router;
}

/** Writes, then waits until the client has taken it in; false when the client is gone. */
async function writeOrGone(res: Response, chunk: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  return new Promise((resolve) => {
    const done = (drained: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(drained);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

function refuse(res: Response, status: number, error: CodedError) {
  res.status(status).json({ errors: [{ message: error.message, extensions: { code: error.extensions.code } }] });
}
