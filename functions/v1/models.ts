import { createRoute, z } from '@hono/zod-openapi';
import { listCallableModels } from '../core/inference/models.ts';
import { createRouter } from '../lib/openapi.ts';

export const modelsRoute = createRouter();

modelsRoute.openapi(
  createRoute({
    method: 'get',
    path: '/models',
    tags: ['OpenAI-compatible'],
    summary: 'The deployments this key can call, as OpenAI model objects',
    security: [{ bearer: [] }],
    responses: {
      200: {
        description: 'A list of models',
        content: {
          'application/json': {
            schema: z.object({ object: z.literal('list'), data: z.array(z.record(z.string(), z.unknown())) }),
          },
        },
      },
    },
  }),
  async (c) =>
    c.json({ object: 'list' as const, data: await listCallableModels({ ctx: c.get('services') }) }, 200),
);
