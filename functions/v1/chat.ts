import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { EngineError, InvalidRequestError } from '../core/errors.ts';
import { chatCompletionInput } from '../core/inference/chat-input.ts';
import { resolveTarget } from '../core/inference/target.ts';
import { checkWebhookTarget } from '../core/webhooks/target.ts';
import { errorBody, statusOf, toServiceError } from '../lib/http-errors.ts';
import { awaitJob } from '../lib/inference/relay.ts';
import { jobCost, submitJob } from '../lib/inference/submit.ts';
import { createRouter } from '../lib/openapi.ts';
import { createJobQueue } from '../lib/queue/index.ts';

interface ChatResult {
  id?: string;
  created?: number;
  usage?: Record<string, number>;
}

export const chat = createRouter();

chat.openapi(
  createRoute({
    method: 'post',
    path: '/chat/completions',
    tags: ['OpenAI-compatible'],
    summary: 'Chat completions (streaming with SSE, or one JSON body)',
    description:
      'OpenAI-compatible. `model` is a deployment id or name (any value with a deployment key). Headers: `Cancel-After: <s>` sets the deadline, `Idempotency-Key` makes retries safe. Responses carry `x-job-id`, `x-gpu-seconds` and `x-cost-usd`.',
    security: [{ bearer: [] }],
    request: {
      body: {
        content: { 'application/json': { schema: chatCompletionInput.openapi('ChatCompletionRequest') } },
        required: true,
      },
    },
    responses: {
      200: {
        description:
          'A chat.completion object, or an SSE stream of chat.completion.chunk objects ending with [DONE]',
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
      },
      202: {
        description: 'Accepted to run asynchronously (`webhook` in the body or `Prefer: respond-async`)',
        content: {
          'application/json': {
            schema: z
              .object({ id: z.string(), object: z.literal('job'), status: z.literal('queued') })
              .openapi('AcceptedJob'),
          },
        },
      },
    },
  }),
  async (c) => {
    const ctx = c.get('services');
    const { webhook, webhook_events, ...body } = c.req.valid('json');
    const target = await resolveTarget(ctx, body.model);
    const input = { ...body, model: target.modelName };
    const asyncRequested = webhook !== undefined || /\brespond-async\b/i.test(c.req.header('prefer') ?? '');
    if (asyncRequested) {
      if (body.stream)
        throw new InvalidRequestError(
          'stream: an async request (webhook or Prefer: respond-async) cannot stream.',
          { param: 'stream' },
        );
      const webhookUrl =
        webhook === undefined
          ? null
          : checkWebhookTarget(webhook, { allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE_TARGETS });
      const job = await submitJob(c, target, 'chat.completion', input, {
        webhookUrl,
        webhookEvents: webhook_events ?? null,
      });
      c.header('location', `/v1/jobs/${job.id}`);
      return c.json({ id: job.id, object: 'job' as const, status: 'queued' as const }, 202);
    }
    const job = await submitJob(c, target, 'chat.completion', input);
    const queue = createJobQueue(ctx.redis);
    const now = () => ctx.clock.now().getTime();
    const signal = c.req.raw.signal;

    if (!body.stream) {
      const { result } = await awaitJob(queue, job, {}, signal, now);
      const { gpuSeconds, costUsd } = jobCost(await queue.gpuMs(job.id), target.pricePerHourMicroUsd);
      c.header('x-gpu-seconds', gpuSeconds.toFixed(3));
      c.header('x-cost-usd', costUsd.toFixed(6));
      return c.json(result as Record<string, unknown>, 200);
    }

    // The route's typed answer is the JSON body; the SSE stream is the same route's other form.
    const streamed = streamSSE(c, async (stream) => {
      const aborted = new AbortController();
      stream.onAbort(() => aborted.abort());
      signal.addEventListener('abort', () => aborted.abort());
      let relayed = 0;
      try {
        const { result } = await awaitJob(
          queue,
          job,
          {
            onChunk: async (chunk) => {
              if (aborted.signal.aborted) return false;
              await stream.writeSSE({ data: JSON.stringify(chunk) });
              relayed++;
              return true;
            },
            onRequeued: () => {
              // A replacement worker starts over; what this client already received cannot be unsent.
              if (relayed > 0)
                throw new EngineError(
                  'The worker serving this stream was lost mid-response. Retry the request.',
                );
            },
          },
          aborted.signal,
          now,
        );
        const final = result as ChatResult;
        if (body.stream_options?.include_usage && final.usage) {
          const { gpuSeconds, costUsd } = jobCost(await queue.gpuMs(job.id), target.pricePerHourMicroUsd);
          await stream.writeSSE({
            data: JSON.stringify({
              id: final.id,
              object: 'chat.completion.chunk',
              created: final.created,
              model: target.modelName,
              choices: [],
              usage: { ...final.usage, gpu_seconds: gpuSeconds, cost_usd: costUsd },
            }),
          });
        }
        await stream.writeSSE({ data: '[DONE]' });
      } catch (thrown) {
        if (aborted.signal.aborted) return;
        // Mid-stream failures arrive the way OpenAI sends them: an `error` object in a data line.
        const error = toServiceError(thrown);
        ctx.logger.warn('stream ended with an error', {
          code: error.code,
          status: statusOf(error.code),
          jobId: job.id,
        });
        await stream.writeSSE({ data: JSON.stringify(errorBody(error.code, error.message, error.param)) });
      }
    });
    return streamed as unknown as ReturnType<typeof c.json<Record<string, unknown>, 200>>;
  },
);
