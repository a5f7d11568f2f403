// The web dashboard (docs/dashboard.md): the files `node scripts/build.mjs` bundles into
// dist/dashboard/, served at `/` under a strict Content-Security-Policy. The page is a face over
// the /v1 API like the CLI: it holds no privilege of its own, every call carries the signed-in
// token, and the API checks each one. Unauthenticated, like /healthz: it is the same few files for
// everyone. Read once at start-up; a hub built without them answers 404 saying so.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { HubError } from '../../errors.js';

/** Scripts, styles, fetches and images from the hub alone; no inline script, no frames, no plugins. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** `dir`: where the built files are; default dist/dashboard beside this compiled module. */
export function dashboardRoutes(dir = fileURLToPath(new URL('../../../dashboard/', import.meta.url))): FastifyPluginAsync {
  return async (app) => {
    for (const [route, { file, type }] of Object.entries(FILES)) {
      const path = `${dir}/${file}`;
      const body = existsSync(path) ? readFileSync(path) : null;
      app.get(route, { schema: { hide: true } }, async (_req, reply) => {
        if (body === null) throw new HubError('not_found', `the dashboard is not built (${path} is missing): run npm run build`);
        return reply
          .type(type)
          .header('content-security-policy', DASHBOARD_CSP)
          .header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer')
          .header('cross-origin-opener-policy', 'same-origin')
          .header('cross-origin-resource-policy', 'same-origin')
          .header('x-frame-options', 'DENY')
          // Not fingerprinted: revalidated each load, so a hub upgrade never serves an old bundle.
          .header('cache-control', 'no-cache')
          .send(body);
      });
    }
  };
}
