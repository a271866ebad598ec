import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AppEnv } from '../../context.ts';
import {
  EngineError,
  InvalidRequestError,
  NoCapacityError,
  QueueTimeoutError,
  ServiceError,
} from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { resolveTarget } from '../../core/inference/target.ts';
import type { JobKind, WebhookEvent } from '../../core/jobs/states.ts';
import { jobInputKey } from '../../core/payloads/store.ts';
import { recentStartFailure } from '../../core/replicas/events.ts';
import { checkWebhookTarget } from '../../core/webhooks/target.ts';
import { errorBody, statusOf, toServiceError } from '../http-errors.ts';
import { servicesForStream } from '../init.ts';
import { awaitJob } from './relay.ts';
import { type AsyncOptions, jobCost, queueingHeadersOf, type SubmittedJob, submitJob } from './submit.ts';

/** A replica start that failed this recently explains a request that found no replica. */
const START_FAILURE_WINDOW_MS = 5 * 60_000;

export interface InferenceRequest {
  kind: JobKind;
  body: {
    [field: string]: unknown;
    model: string;
    stream?: boolean | undefined;
    stream_options?: { include_usage?: boolean | undefined } | null | undefined;
  };
  webhook?: string | undefined;
  webhookEvents?: WebhookEvent[] | undefined;
  /** The `object` of streamed chunks (`chat.completion.chunk`, `text_completion`), for the usage chunk. */
  chunkObject?: string;
  /**
   * Stores the request's large payload (an audio upload) under the job's id before it is queued, and
   * returns the input fields that refer to it: the queue carries references, not bytes.
   */
  stage?: (jobId: string) => Promise<Record<string, unknown>>;
  /** How a finished synchronous job is answered; by default its result as JSON. */
  present?: (result: Record<string, unknown>, job: SubmittedJob) => Promise<Response>;
}

interface FinalResult {
  id?: string;
  created?: number;
  usage?: Record<string, number>;
}

/**
 * Every OpenAI-compatible route ends here: resolve the deployment, queue the job, then answer as the
 * caller asked — 202 for async (webhook or `Prefer: respond-async`), one JSON body, or an SSE stream.
 */
export async function respond(c: Context<AppEnv>, request: InferenceRequest): Promise<Response> {
  const ctx = c.get('services');
  const { body } = request;
  const isAsync = request.webhook !== undefined || /\brespond-async\b/i.test(c.req.header('prefer') ?? '');
  // Refused before anything is staged or queued.
  if (isAsync && body.stream) {
    throw new InvalidRequestError(
      'stream: an async request (webhook or Prefer: respond-async) cannot stream.',
      {
        param: 'stream',
      },
    );
  }
  if (request.webhookEvents !== undefined && request.webhook === undefined) {
    throw new InvalidRequestError('webhook_events: only applies with a webhook to send them to.', {
      param: 'webhook_events',
    });
  }
  // Everything the request says is checked before the target is looked up (and the balance and caps
  // with it), so a bad header or webhook is a 400 whatever the account's state.
  const headers = queueingHeadersOf(c);
  const webhookUrl =
    request.webhook === undefined
      ? null
      : checkWebhookTarget(request.webhook, { allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE_TARGETS });
  const target = await resolveTarget(ctx, body.model, request.kind);
  const jobId = newId('job');
  const staged = request.stage ? await request.stage(jobId) : {};
  // The engine streams as it is told; `include_obfuscation` concerns OpenAI's own service only.
  const streamOptions = body.stream_options
    ? { include_usage: body.stream_options.include_usage }
    : undefined;
  const input = { ...body, ...staged, model: target.modelName, stream_options: streamOptions };
  const submit = async (asyncOptions?: AsyncOptions) => {
    const dropStaged = () => {
      if (request.stage) ctx.defer(ctx.payloads.delete(jobInputKey(jobId)));
    };
    const job = await submitJob(c, target, request.kind, input, headers, asyncOptions, jobId).catch(
      (error: unknown) => {
        // Refused (a bad header, a reused key) or not queued: nothing will read the staged upload.
        // Unless the request has an Idempotency-Key and did not end in a refusal: its enqueue may have
        // landed with the reply lost, or its retry revive this very job, and the worker fetches the
        // upload then (the bucket's lifecycle rule removes it if nothing ever does).
        const refused = error instanceof ServiceError && statusOf(error.code) < 500;
        if (headers.idempotencyKey === undefined || refused) dropStaged();
        throw error;
      },
    );
    // A retry joined the first job: what was staged for this one is not needed.
    if (job.id !== jobId) dropStaged();
    return job;
  };
  if (isAsync) {
    const job = await submit({ webhookUrl, webhookEvents: request.webhookEvents ?? null });
    c.header('location', `/v1/jobs/${job.id}`);
    return c.json({ id: job.id, object: 'job', status: job.state }, 202);
  }

  const job = await submit();
  // A client that sent an Idempotency-Key means to retry: its disconnect does not cancel the job, so
  // the retry finds it running or done instead of cancelled.
  const retried = headers.idempotencyKey !== undefined;
  const signal = retried ? new AbortController().signal : c.req.raw.signal;
  const wait: typeof awaitJob = (services, ...rest) =>
    awaitJob(services, ...rest).catch(async (error: unknown) => {
      if (error instanceof QueueTimeoutError) {
        // Waiting was in vain because no replica could start: say so, and when to retry.
        const failure = await recentStartFailure(services, target.endpointId, START_FAILURE_WINDOW_MS).catch(
          () => null,
        );
        if (failure) throw new NoCapacityError(failure);
      }
      throw error;
    });

  if (!body.stream) {
    const { result, gpuMs, pricePerHourMicroUsd } = await wait(ctx, job, {}, signal, retried);
    const { gpuSeconds, costUsd } = jobCost(gpuMs, pricePerHourMicroUsd ?? target.pricePerHourMicroUsd);
    c.header('x-gpu-seconds', gpuSeconds.toFixed(3));
    c.header('x-cost-usd', costUsd.toFixed(6));
    const final = result as Record<string, unknown>;
    return request.present ? request.present(final, job) : c.json(final, 200);
  }

  return streamSSE(c, async (stream) => {
    // The stream outlives the handler, and the request's database connection with it.
    const own = servicesForStream(ctx);
    const aborted = new AbortController();
    stream.onAbort(() => aborted.abort());
    // A client gone before the stream began sends no abort event any more.
    if (signal.aborted) aborted.abort();
    else signal.addEventListener('abort', () => aborted.abort());
    let relayed = 0;
    try {
      const { result, gpuMs, pricePerHourMicroUsd } = await wait(
        own.ctx,
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
        retried,
      );
      const final = result as FinalResult;
      if (body.stream_options?.include_usage && final.usage) {
        const { gpuSeconds, costUsd } = jobCost(gpuMs, pricePerHourMicroUsd ?? target.pricePerHourMicroUsd);
        await stream.writeSSE({
          data: JSON.stringify({
            id: final.id,
            object: request.chunkObject,
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
    } finally {
      await own.close();
    }
  });
}
