import { createServer, type Server } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import { healthRoutes, type ReadinessCheck } from '../health/health.routes';
import type { Logger } from '../logger';
import { consoleRoutes } from './console.routes';

/**
 * Mounts GraphQL on the app and its server (graphql/server.ts mountGraphql, bound by
 * main.ts); returns the function that drains and stops it.
 */
export type GraphqlMount = (app: Express, server: Server) => Promise<() => Promise<void>>;

export type HttpServerOptions = {
  log: Logger;
  readiness: Record<string, ReadinessCheck>;
  /** absent on a worker-only process, which serves /healthz and /readyz alone */
  graphql?: GraphqlMount;
  /** more routes, served before GraphQL and the console (/metrics, the CSV export) */
  routes?: Router[];
};

export type HttpServer = { server: Server; stop: () => Promise<void> };

/**
 * One HTTP server on one port: health endpoints and, on an api process, GraphQL at
 * /graphql (HTTP and websocket, with GraphiQL) and the operator console at /.
 */
export async function createHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const { log } = opts;
  const app = express();
  app.disable('x-powered-by');
  // No ETag on what Express answers (GraphQL, health): a POST's answer is never revalidated,
  // and the weak ETag was a hash of every body. The console's files keep theirs (express.static).
  app.set('etag', false);
  const server = createServer(app);
  app.use(healthRoutes(opts.readiness));
  for (const routes of opts.routes ?? []) app.use(routes);
  let stopGraphql: (() => Promise<void>) | undefined;
  if (opts.graphql) {
    stopGraphql = await opts.graphql(app, server);
    app.use(consoleRoutes(log));
  }
  app.use(errorHandler(log));
  const stop = async () => {
    if (stopGraphql) return stopGraphql();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  };
  return { server, stop };
}

/**
 * What fails before Apollo (a body that is not JSON or is too large, a GraphiQL asset that
 * cannot be read) is answered like a GraphQL error, not with express's HTML page, which
 * outside production shows the stack trace.
 */
function errorHandler(log: Logger) {
  return (err: { status?: unknown; type?: unknown; expose?: unknown; message?: unknown }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err }, 'internal error in an HTTP request');
    const message =
      status === 500
        ? 'Internal server error'
        : err.type === 'entity.parse.failed'
          ? 'the request body is not valid JSON'
          : err.expose === true && typeof err.message === 'string'
            ? err.message
            : 'bad request';
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
  };
}
