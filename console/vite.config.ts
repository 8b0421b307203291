import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Herald serves dist/ at / (src/http/console.routes.ts), on the origin of its API. For
// `npm run dev`, Vite proxies the API, websocket included, to a Herald on port 4000.
export default defineConfig({
  plugins: [react()],
  server: { proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } } },
  build: { outDir: 'dist', emptyOutDir: true },
});
