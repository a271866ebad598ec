import { createRoute, z } from '@hono/zod-openapi';
import { jsonRequest } from '../api/schemas.ts';
import { chatCompletionInput, chatForEngine } from '../core/inference/chat-input.ts';
import { JOB_STATES } from '../core/jobs/states.ts';
import { respond } from '../lib/inference/respond.ts';
import { createRouter } from '../lib/openapi.ts';

export const chat = createRouter();

chat.openapi(
  createRoute({
    method: 'post',
    path: '/chat/completions',
    tags: ['OpenAI-compatible'],
    summary: 'Chat completions (streaming with SSE, or one JSON body)',
    description:
      'OpenAI-compatible. `model` is a deployment id or name (any value with a deployment key). Headers: `Cancel-After: <s>` sets the deadline, `Idempotency-Key` makes retries safe. Responses carry `x-job-id`; one-piece answers also `x-gpu-seconds` and `x-cost-usd` (a stream gives them in its usage chunk).',
    security: [{ bearer: [] }],
    request: jsonRequest(chatCompletionInput.openapi('ChatCompletionRequest')),
    responses: {
      200: {
        description:
          'A chat.completion object, or an SSE stream of chat.completion.chunk objects ending with [DONE]',
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
      },
      202: {
        description:
          'Accepted to run asynchronously (`webhook` in the body or `Prefer: respond-async`); a retry with the same `Idempotency-Key` answers the first job and where it stands',
        content: {
          'application/json': {
            schema: z
              .object({ id: z.string(), object: z.literal('job'), status: z.enum(JOB_STATES) })
              .openapi('AcceptedJob'),
          },
        },
      },
    },
  }),
  async (c) => {
    const { webhook, webhook_events, ...body } = c.req.valid('json');
    const response = await respond(c, {
      kind: 'chat.completion',
      body: chatForEngine(body),
      webhook,
      webhookEvents: webhook_events,
      chunkObject: 'chat.completion.chunk',
    });
    // The route's typed answers are JSON; the SSE stream is the same route's other form.
    return response as unknown as ReturnType<typeof c.json<Record<string, unknown>, 200>>;
  },
);
