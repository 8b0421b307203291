import { createRequire } from 'node:module';
import path from 'node:path';
import type { Request, Response, Router } from 'express';
import express from 'express';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

// GraphiQL and React from their npm packages, served by Herald itself: the page works on a
// machine with no internet.
const ASSETS: Record<string, string> = {
  'react.js': path.join(packageDir('react'), 'umd/react.production.min.js'),
  'react-dom.js': path.join(packageDir('react-dom'), 'umd/react-dom.production.min.js'),
  'graphiql.js': path.join(packageDir('graphiql'), 'graphiql.min.js'),
  'graphiql.css': path.join(packageDir('graphiql'), 'graphiql.min.css'),
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Herald · GraphiQL</title>
  <link rel="stylesheet" href="/graphiql/graphiql.css">
  <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/react.js"></script>
  <script src="/graphiql/react-dom.js"></script>
  <script src="/graphiql/graphiql.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: location.origin + '/graphql' });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        shouldPersistHeaders: true,
        defaultHeaders: '{\\n  "Authorization": "Bearer <paste your token; see .data/admin-token>"\\n}',
        defaultEditorToolbarOpen: true,
      }),
    );
  </script>
</body>
</html>`;

/** `GET /graphql` from a browser opens GraphiQL; everything else goes on to Apollo. */
export function graphiqlRoutes(): Router {
  const router = express.Router();
  router.get('/graphql', (req: Request, res: Response, next) => {
    if (req.accepts(['application/json', 'text/html']) !== 'text/html') return next();
    res.type('html').send(PAGE);
  });
  router.get('/graphiql/:asset', (req: Request, res: Response) => {
    const file = ASSETS[req.params.asset as string];
    if (!file) return res.status(404).end();
    res.sendFile(file, { maxAge: '1d' });
  });
  return router;
}
