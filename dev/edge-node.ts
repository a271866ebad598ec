/**
 * The edge app served by Node (@hono/node-server) instead of workerd, started by `npm run dev` when
 * EDGE_RUNTIME=node: the same routes and services, without wrangler dev's own per-request cost (about
 * 8 ms for a hello-world worker on a 2-core machine), which would drown what benchmarks measure. The
 * API only: the web app is served by wrangler's assets binding, which Node does not have. Work a
 * request defers runs after its response, as waitUntil does in workerd.
 */
import { serve } from '@hono/node-server';
import { z } from 'zod';
import { createApp } from '../functions/app.ts';

const settings = z
  .object({
    EDGE_PORT: z.coerce.number().int().min(1).max(65_535),
    /** The edge's bindings as JSON (what `wrangler dev` gets as `--var`s). */
    EDGE_VARS: z.string().transform((text) => z.record(z.string(), z.string()).parse(JSON.parse(text))),
  })
  .parse(process.env);

const app = createApp();
const executionCtx = {
  waitUntil: (task: Promise<unknown>) => void task.catch(() => {}),
  passThroughOnException: () => {},
  props: {},
};
const server = serve({
  fetch: (request) => app.fetch(request, settings.EDGE_VARS, executionCtx),
  port: settings.EDGE_PORT,
  hostname: '127.0.0.1',
});
server.once('listening', () => console.log(`edge (node) listening on 127.0.0.1:${settings.EDGE_PORT}`));
const stop = () => {
  server.close(() => process.exit(0));
  if ('closeAllConnections' in server) server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
