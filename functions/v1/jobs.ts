import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { endpoints } from '../../db/schema/index.ts';
import type { AppEnv, ServiceContext as AppServices } from '../context.ts';
import { deploymentRuntime } from '../core/deployments/runtime.ts';
import { NotFoundError } from '../core/errors.ts';
import { isId } from '../core/ids.ts';
import { findCallerJob } from '../core/jobs/async.ts';
import { TERMINAL_JOB_STATES } from '../core/jobs/states.ts';
import { toJobView } from '../core/jobs/view.ts';
import { authorizeInference } from '../core/orgs/authorize.ts';
import { asyncResultView } from '../lib/inference/outputs.ts';
import { jobCost } from '../lib/inference/submit.ts';
import { repairAsyncJob } from '../lib/jobs/repair.ts';
import { settleAsyncJob } from '../lib/jobs/settle.ts';
import { stopJob } from '../lib/jobs/stop.ts';
import { createRouter } from '../lib/openapi.ts';
import { createJobQueue } from '../lib/queue/index.ts';

const JobSchema = z.record(z.string(), z.unknown()).openapi('Job');
const IdParams = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'job_2ZkQ8pV7nT4sW9xY3bC1dE' }),
});

/** The job as the caller sees it, its record repaired on sight when the queue knows more. */
async function currentJob(c: Context<AppEnv>, id: string) {
  const ctx = c.get('services');
  let row = await findCallerJob(ctx, id);
  const queue = createJobQueue(ctx.redis);
  const repaired = await repairAsyncJob(ctx, row);
  if (repaired === 'settled') row = await findCallerJob(ctx, id);
  else if (repaired === 'running') row = { ...row, state: 'running' };
  const queuePosition = row.state === 'queued' ? await queue.position(row.id, row.endpointId) : null;
  return {
    ...toJobView(row, { queuePosition, result: await asyncResultView(ctx, row, row.output) }),
    ...(row.state === 'queued' ? { deployment: await waitingOn(ctx, row.endpointId) } : {}),
  };
}

/** What a queued job waits on: whether a replica is up or starting, and how long a start takes. */
async function waitingOn(ctx: AppServices, endpointId: string) {
  const [endpoint] = await ctx.db
    .select({ id: endpoints.id, state: endpoints.state })
    .from(endpoints)
    .where(eq(endpoints.id, endpointId));
  if (!endpoint) return null;
  const { status, replicas, cold_start_estimate_seconds } = await deploymentRuntime(ctx, endpoint);
  return { status, replicas, cold_start_estimate_seconds };
}

/**
 * A synchronous job (the `x-job-id` of a waiting or streaming request) lives only in the queue: its
 * caller can follow and cancel it too; its result goes to the request that waits for it.
 */
async function liveJob(c: Context<AppEnv>, id: string) {
  const ctx = c.get('services');
  const { caller, boundEndpointId } = authorizeInference(ctx.caller);
  const queue = createJobQueue(ctx.redis);
  const book = isId('job', id) ? await queue.bookkeeping(id) : null;
  const visible =
    book?.state &&
    !book.isAsync &&
    book.orgId === caller.orgId &&
    (!boundEndpointId || book.endpointId === boundEndpointId);
  if (!book || !visible) throw new NotFoundError(`No job '${id}'.`, { param: 'id' });
  return { queue, book, endpointId: book.endpointId };
}

async function liveJobView(c: Context<AppEnv>, id: string) {
  const { queue, book } = await liveJob(c, id);
  const { gpuSeconds, costUsd } = jobCost(await queue.gpuMs(id), book.pricePerHourMicroUsd);
  const ended = book.state !== 'queued' && book.state !== 'running';
  return {
    id,
    object: 'job' as const,
    status: book.state,
    kind: book.kind,
    deployment_id: book.endpointId,
    created_at: new Date(book.createdMs).toISOString(),
    started_at: book.startedAt?.toISOString() ?? null,
    completed_at: book.completedAt?.toISOString() ?? null,
    queue_position: book.state === 'queued' ? await queue.position(id, book.endpointId) : null,
    result: null,
    error: null,
    gpu_seconds: ended ? gpuSeconds : null,
    cost_usd: ended ? costUsd : null,
    webhook: null,
    ...(book.state === 'queued' ? { deployment: await waitingOn(c.get('services'), book.endpointId) } : {}),
  };
}

/** The caller's recorded (async) job, or null when only the queue knows it (a sync job). */
async function recordedJob(c: Context<AppEnv>, id: string) {
  try {
    return await findCallerJob(c.get('services'), id);
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}

export const jobsRoutes = createRouter();

jobsRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/jobs/{id}',
    tags: ['Jobs'],
    summary: 'Follow an async job: status, queue position, result when done, GPU seconds and cost',
    security: [{ bearer: [] }],
    request: { params: IdParams },
    responses: { 200: { description: 'The job', content: { 'application/json': { schema: JobSchema } } } },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const view = (await recordedJob(c, id)) ? await currentJob(c, id) : await liveJobView(c, id);
    return c.json(view as Record<string, unknown>, 200);
  },
);

jobsRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/jobs/{id}/cancel',
    tags: ['Jobs'],
    summary: 'Cancel a queued or running job',
    description:
      'A running job is stopped on its worker; GPU time already used is billed. Cancelling an ended job changes nothing.',
    security: [{ bearer: [] }],
    request: { params: IdParams },
    responses: { 200: { description: 'The job', content: { 'application/json': { schema: JobSchema } } } },
  }),
  async (c) => {
    const ctx = c.get('services');
    const { id } = c.req.valid('param');
    const row = await recordedJob(c, id);
    if (!row) {
      const { endpointId } = await liveJob(c, id);
      // The waiting request sees the cancellation and answers its client.
      await stopJob(ctx, { id, endpointId }, 'cancelled');
      return c.json((await liveJobView(c, id)) as Record<string, unknown>, 200);
    }
    const queue = createJobQueue(ctx.redis);
    const stopped = await stopJob(ctx, row, 'cancelled');
    // A recorded job the queue no longer holds (never queued, or long expired) is cancelled on record.
    const orphaned = !stopped && !TERMINAL_JOB_STATES.has(row.state) && (await queue.state(row.id)) === null;
    if (stopped || orphaned) {
      const book = await queue.bookkeeping(row.id);
      await settleAsyncJob(ctx, row.id, {
        state: 'cancelled',
        gpuSeconds: (await queue.gpuMs(row.id)) / 1000,
        pricePerHourMicroUsd: book.pricePerHourMicroUsd,
        startedAt: book.startedAt,
      });
    }
    return c.json(await currentJob(c, row.id), 200);
  },
);
