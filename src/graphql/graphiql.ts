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
    // Queries and mutations go over HTTP, subscriptions over graphql-ws on the same /graphql;
    // both carry the Headers tab (the websocket as connectionParams). The schema is fetched
    // only once the Headers tab holds a token, and again when the token changes: a fetch
    // without one could only fail, and its UNAUTHENTICATED would stay on screen.
    const url = location.origin + '/graphql';
    const subscriptionUrl = url.replace(/^http/, 'ws');
    const tokenIn = (headers) => {
      try {
        const parsed = JSON.parse(headers || '{}');
        const key = Object.keys(parsed).find((k) => k.toLowerCase() === 'authorization');
        const value = key ? String(parsed[key]).trim() : '';
        return /^Bearer\\s+[^\\s<>]+$/i.test(value) ? value : null;
      } catch {
        return null;
      }
    };
    // The Headers tab (the token with it) is kept for this tab alone, as the console keeps its
    // token: in sessionStorage, gone when the tab closes. What an older Herald left in
    // localStorage (headers, and tabs with their headers) is removed.
    for (const key of Object.keys(localStorage)) if (key.startsWith('graphiql:')) localStorage.removeItem(key);
    function Playground() {
      const [token, setToken] = React.useState(() => tokenIn(sessionStorage.getItem('graphiql:headers')));
      const typing = React.useRef();
      // A new fetcher is what makes GraphiQL fetch the schema again.
      const fetcher = React.useMemo(() => GraphiQL.createFetcher({ url, subscriptionUrl }), [token]);
      return React.createElement(GraphiQL, {
        fetcher,
        schema: token ? undefined : null,
        shouldPersistHeaders: true,
        storage: sessionStorage,
        defaultHeaders: '{\\n  "Authorization": "Bearer <paste your token; see .data/admin-token>"\\n}',
        defaultEditorToolbarOpen: true,
        onEditHeaders: (headers) => {
          // Once typing pauses: not one schema fetch per keystroke of a token.
          clearTimeout(typing.current);
          typing.current = setTimeout(() => setToken(tokenIn(headers)), 400);
        },
      });
    }
    ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(Playground));
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
