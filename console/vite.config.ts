import react from '@vitejs/plugin-react';
import { defineConfig, searchForWorkspaceRoot } from 'vite';

// Herald serves dist/ at / (src/http/console.routes.ts), on the origin of its API. For
// `npm run dev`, Vite proxies the API, websocket included, to a Herald on port 4000.
// The console imports one pure module of Herald's own, the clients CSV reader that
// `npm run import` uses too; the dev server may serve that file and nothing else outside
// console/ (a build bundles it like any import).
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } },
    fs: { allow: [searchForWorkspaceRoot(process.cwd()), '../src/clients/client.csv.ts'] },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The libraries in chunks of their own, none over Vite's 500 kB warning: React, Apollo
    // Client (with rxjs), graphql-js and graphql-ws, each cached by the browser across console
    // releases, since they change less often than the console's code. (GraphiQL is no part of
    // the console: Herald serves it at /graphql from its own npm package; the charts are the
    // console's own SVG, a few kB.)
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/, priority: 4 },
            { name: 'apollo', test: /node_modules[\\/](@apollo|rxjs|@wry|optimism|tslib|zen-observable|@graphql-typed-document-node)[\\/]/, priority: 3 },
            { name: 'graphql', test: /node_modules[\\/](graphql|graphql-ws|graphql-tag)[\\/]/, priority: 2 },
            { name: 'vendor', test: /node_modules[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
});
