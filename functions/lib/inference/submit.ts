import type { Context } from 'hono';
import type { AppEnv } from '../../context.ts';
import { costMicroUsd } from '../../core/billing/cost.ts';
import { InvalidRequestError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { InferenceTarget } from '../../core/inference/target.ts';
import { recordAsyncJob } from '../../core/jobs/async.ts';
import type { JobKind, JobState, WebhookEvent } from '../../core/jobs/states.ts';
import { settleAsyncJob } from '../jobs/settle.ts';
import { nudgeScaleUp } from '../orchestrator/nudge.ts';
import { createJobQueue } from '../queue/index.ts';

const DEFAULT_TIMEOUT_SECONDS = 600;
const MAX_TIMEOUT_SECONDS = 3600;

/** `Cancel-After: <seconds>`: the request's deadline, after which the job is cancelled (504). */
function timeoutOf(header: string | undefined): number {
  if (header === undefined) return DEFAULT_TIMEOUT_SECONDS;
  const seconds = Number(header);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TIMEOUT_SECONDS) {
    throw new InvalidRequestError(
      `Cancel-After must be a whole number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}.`,
      {
        param: 'cancel-after',
      },
    );
  }
  return seconds;
}

function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw new InvalidRequestError('Idempotency-Key must be 1 to 255 visible ASCII characters.', {
      param: 'idempotency-key',
    });
  }
  return header;
}

/** The request's queueing headers, read and checked before anything else is looked up. */
export interface QueueingHeaders {
  timeoutSeconds: number;
  idempotencyKey: string | undefined;
}

export function queueingHeadersOf(c: Context<AppEnv>): QueueingHeaders {
  return {
    timeoutSeconds: timeoutOf(c.req.header('cancel-after')),
    idempotencyKey: idempotencyKeyOf(c.req.header('idempotency-key')),
  };
}

export interface SubmittedJob {
  id: string;
  endpointId: string;
  deadlineMs: number;
  timeoutSeconds: number;
}

export interface AsyncOptions {
  webhookUrl: string | null;
  webhookEvents: WebhookEvent[] | null;
}

/**
 * Queues a job for the target endpoint. A retried request with the same `Idempotency-Key` joins the
 * first job instead of running again. Nothing waits here for capacity: scaling reacts to the queue.
 * Async jobs are recorded in Postgres first, so they can be followed after this request ends.
 */
export async function submitJob(
  c: Context<AppEnv>,
  target: InferenceTarget,
  kind: JobKind,
  input: unknown,
  headers: QueueingHeaders,
  asyncOptions?: AsyncOptions,
  proposedJobId: string = newId('job'),
): Promise<SubmittedJob & { duplicate: boolean; state: JobState }> {
  const ctx = c.get('services');
  const { timeoutSeconds, idempotencyKey } = headers;
  const nowMs = ctx.clock.now().getTime();
  const deadlineMs = nowMs + timeoutSeconds * 1000;
  let jobId = proposedJobId;
  let jobDeadlineMs = deadlineMs;
  const queue = createJobQueue(ctx.redis);
  if (asyncOptions && ctx.caller) {
    const recorded = await recordAsyncJob(ctx, ctx.caller, {
      id: jobId,
      endpointId: target.endpointId,
      kind,
      input,
      deadlineAt: new Date(deadlineMs),
      idempotencyKey,
      ...asyncOptions,
    });
    const { row } = recorded;
    // Recorded but never queued: the request that recorded it ended in between (a crash, a deploy).
    // Its retry queues it now, to its first deadline; the queue's own idempotency key keeps two
    // requests from both queuing it.
    const stranded =
      recorded.duplicate &&
      row.state === 'queued' &&
      row.deadlineAt !== null &&
      row.deadlineAt.getTime() > nowMs &&
      (await queue.state(row.id)) === null;
    if (recorded.duplicate && !stranded) {
      c.header('x-job-id', row.id);
      return {
        id: row.id,
        endpointId: target.endpointId,
        deadlineMs,
        timeoutSeconds,
        duplicate: true,
        // A retry learns where the first request's job is now, not that it was queued once.
        state: row.state,
      };
    }
    jobId = row.id;
    if (row.deadlineAt) jobDeadlineMs = row.deadlineAt.getTime();
  }
  const queued = await queue
    .enqueue({
      jobId,
      orgId: target.orgId,
      endpointId: target.endpointId,
      kind,
      input,
      deadlineMs: jobDeadlineMs,
      nowMs,
      idempotencyKey,
      async: Boolean(asyncOptions),
      pricePerHourMicroUsd: target.pricePerHourMicroUsd,
      apiKeyId: target.apiKeyId,
    })
    .catch(async (error: unknown) => {
      // The enqueue failed, or only its reply was lost (the job may be in the queue after all). With
      // an Idempotency-Key the record stays "queued": the client's retry queues it if it is not there
      // (the stranded case above) or finds it there, and an abandoned one times out at its deadline.
      // Without one the client cannot retry this job, so the record says it failed.
      if (asyncOptions && !idempotencyKey)
        await settleAsyncJob(ctx, jobId, {
          state: 'failed',
          error: { message: 'The job could not be queued.' },
          gpuSeconds: 0,
          pricePerHourMicroUsd: 0,
        });
      throw error;
    });
  c.header('x-job-id', queued.jobId);
  if (!queued.duplicate || queued.waiting > 0) {
    // Scaling reacts to the queue; the request never waits on the orchestrator. A repeated request
    // whose job still waits nudges too (its first try may have died before nudging); nudges are
    // deduplicated, and a lost one is covered by the minute schedule.
    ctx.defer(
      nudgeScaleUp(ctx, target, queued).catch((error: unknown) =>
        ctx.logger.warn('scale-up nudge not sent', { endpointId: target.endpointId, cause: String(error) }),
      ),
    );
  }
  return {
    id: queued.jobId,
    endpointId: target.endpointId,
    deadlineMs: jobDeadlineMs,
    timeoutSeconds,
    duplicate: queued.duplicate,
    state: 'queued',
  };
}

/** GPU time and its cost at the endpoint's hourly price, as reported in headers and usage. */
export function jobCost(gpuMs: number, pricePerHourMicroUsd: number) {
  const gpuSeconds = gpuMs / 1000;
  return { gpuSeconds, costUsd: costMicroUsd(gpuSeconds, pricePerHourMicroUsd) / 1_000_000 };
}
