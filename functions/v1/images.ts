import { createRoute, z } from '@hono/zod-openapi';
import { jsonRequest } from '../api/schemas.ts';
import { imageInput } from '../core/inference/media-inputs.ts';
import { inlineFiles, linkFiles, SYNC_LINK_SECONDS } from '../lib/inference/outputs.ts';
import { respond } from '../lib/inference/respond.ts';
import { createRouter } from '../lib/openapi.ts';

export const images = createRouter();

images.openapi(
  createRoute({
    method: 'post',
    path: '/images/generations',
    tags: ['OpenAI-compatible'],
    summary: 'Generate images (SDXL, Flux)',
    description:
      'OpenAI-compatible, plus `negative_prompt`, `seed`, `num_inference_steps` and `guidance_scale`. `response_format: "url"` answers with links valid for an hour; `b64_json` inlines the PNGs.',
    security: [{ bearer: [] }],
    request: jsonRequest(imageInput.openapi('ImageGenerationRequest')),
    responses: {
      200: {
        description: 'An images response: `{ created, data: [{ url | b64_json }] }`',
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
      },
      202: {
        description: 'Accepted to run asynchronously; the job result holds links',
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
      },
    },
  }),
  async (c) => {
    const ctx = c.get('services');
    const { webhook, webhook_events, ...body } = c.req.valid('json');
    const response = await respond(c, {
      kind: 'image.generation',
      body,
      webhook,
      webhookEvents: webhook_events,
      present: async (result, job) =>
        c.json(
          body.response_format === 'b64_json'
            ? await inlineFiles(ctx, job.id, result)
            : await linkFiles(ctx, job.id, result, SYNC_LINK_SECONDS),
          200,
        ),
    });
    return response as unknown as ReturnType<typeof c.json<Record<string, unknown>, 200>>;
  },
);
