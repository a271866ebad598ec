import { createRoute, z } from '@hono/zod-openapi';
import { jsonRequest as json } from '../api/schemas.ts';
import { completionInput, embeddingInput } from '../core/inference/other-inputs.ts';
import { respond } from '../lib/inference/respond.ts';
import { createRouter } from '../lib/openapi.ts';

const security = [{ bearer: [] }];
const tags = ['OpenAI-compatible'];
const answers = {
  200: {
    description: 'The result (or an SSE stream)',
    content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
  },
  202: {
    description: 'Accepted to run asynchronously',
    content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
  },
};

export const completions = createRouter();

completions.openapi(
  createRoute({
    method: 'post',
    path: '/completions',
    tags,
    summary: 'Text completions (legacy Completions API)',
    security,
    request: json(completionInput.openapi('CompletionRequest')),
    responses: answers,
  }),
  async (c) => {
    const { webhook, webhook_events, ...body } = c.req.valid('json');
    const response = await respond(c, {
      kind: 'completion',
      body,
      webhook,
      webhookEvents: webhook_events,
      chunkObject: 'text_completion',
    });
    return response as unknown as ReturnType<typeof c.json<Record<string, unknown>, 200>>;
  },
);

completions.openapi(
  createRoute({
    method: 'post',
    path: '/embeddings',
    tags,
    summary: 'Embeddings',
    security,
    request: json(embeddingInput.openapi('EmbeddingRequest')),
    responses: answers,
  }),
  async (c) => {
    const { webhook, webhook_events, ...body } = c.req.valid('json');
    const response = await respond(c, { kind: 'embedding', body, webhook, webhookEvents: webhook_events });
    return response as unknown as ReturnType<typeof c.json<Record<string, unknown>, 200>>;
  },
);
