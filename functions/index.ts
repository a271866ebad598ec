import { createApp } from './app.ts';

/** The Cloudflare Workers entry: one Hono app serves the API; wrangler's assets binding serves `web/`. */
export default createApp();
