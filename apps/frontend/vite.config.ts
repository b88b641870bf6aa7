import { defineConfig } from 'vite';
import type { Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { getRequestListener } from '@hono/node-server';
import { backendsOf, loadEnv } from './server/env';
import { createFrontendServer } from './server/app';

/**
 * In dev, Vite's proxy forwards /api/<backend>/* to the apps and this plugin answers
 * /config.json and /dev/token with the same code the production server uses, so the browser
 * never holds the AUTH_SECRET in either mode.
 */
function consoleServer(): Plugin {
  return {
    name: 'archbench-console-server',
    configureServer(server) {
      const app = createFrontendServer({ env: loadEnv() });
      const listener = getRequestListener(app.fetch);
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0];
        if (path === '/config.json' || path === '/dev/token') return void listener(req, res);
        next();
      });
    },
  };
}

const env = loadEnv();
const proxy: Record<string, { target: string; changeOrigin: boolean; rewrite: (path: string) => string }> = {};
for (const { id, url: target } of backendsOf(env)) {
  proxy[`/api/${id}`] = { target, changeOrigin: true, rewrite: (path) => path.slice(`/api/${id}`.length) || '/' };
}

export default defineConfig({
  plugins: [react(), consoleServer()],
  server: { host: env.HOST, port: env.PORT, proxy },
  preview: { host: env.HOST },
  build: { sourcemap: true, target: 'es2022' },
});
