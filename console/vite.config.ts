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
  build: { outDir: 'dist', emptyOutDir: true },
});
