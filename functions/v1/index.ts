import { authenticate } from '../lib/auth/authenticate.ts';
import { createRouter } from '../lib/openapi.ts';
import { audio } from './audio.ts';
import { chat } from './chat.ts';
import { completions } from './completions.ts';
import { files } from './files.ts';
import { images } from './images.ts';
import { jobsRoutes } from './jobs.ts';
import { modelsRoute } from './models.ts';

/**
 * The OpenAI-compatible surface, routed through the request queue. Any OpenAI SDK works unchanged with
 * `baseURL: <edge>/v1` and a deployment or account key; errors keep OpenAI's shape and status codes.
 */
export const v1 = createRouter();
// Only the routes that exist authenticate: an unknown path stays a plain 404, as with OpenAI.
// `/files/*` is public: its signed links are the permission.
for (const path of ['/chat/*', '/completions', '/embeddings', '/audio/*', '/images/*', '/models', '/jobs/*'])
  v1.use(path, authenticate());
v1.route('/', chat);
v1.route('/', completions);
v1.route('/', audio);
v1.route('/', images);
v1.route('/', files);
v1.route('/', modelsRoute);
v1.route('/', jobsRoutes);
