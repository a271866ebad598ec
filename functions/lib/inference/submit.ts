import type { Context } from 'hono';
import type { AppEnv } from '../../context.ts';
import { InvalidRequestError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { InferenceTarget } from '../../core/inference/target.ts';
import type { JobKind } from '../../core/jobs/states.ts';
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

export interface SubmittedJob {
  id: string;
  endpointId: string;
  deadlineMs: number;
  timeoutSeconds: number;
}

/**
 * Queues a job for the target endpoint. A retried request with the same `Idempotency-Key` joins the
 * first job instead of running again. Nothing waits here for capacity: scaling reacts to the queue.
 */
export async function submitJob(
  c: Context<AppEnv>,
  target: InferenceTarget,
  kind: JobKind,
  input: unknown,
): Promise<SubmittedJob> {
  const { redis, clock } = c.get('services');
  const timeoutSeconds = timeoutOf(c.req.header('cancel-after'));
  const nowMs = clock.now().getTime();
  const deadlineMs = nowMs + timeoutSeconds * 1000;
  const { jobId } = await createJobQueue(redis).enqueue({
    jobId: newId('job'),
    orgId: target.orgId,
    endpointId: target.endpointId,
    kind,
    input,
    deadlineMs,
    nowMs,
    idempotencyKey: idempotencyKeyOf(c.req.header('idempotency-key')),
  });
  c.header('x-job-id', jobId);
  return { id: jobId, endpointId: target.endpointId, deadlineMs, timeoutSeconds };
}

/** GPU time and its cost at the endpoint's hourly price, as reported in headers and usage. */
export function jobCost(gpuMs: number, pricePerHourMicroUsd: number) {
  const gpuSeconds = gpuMs / 1000;
  return { gpuSeconds, costUsd: (gpuSeconds * pricePerHourMicroUsd) / 3600 / 1_000_000 };
}
