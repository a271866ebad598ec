import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { jsonRequest as json } from '../../api/schemas.ts';
import type { AppEnv, ServiceContext } from '../../context.ts';
import { MAX_CONCURRENCY_PER_REPLICA } from '../../core/deployments/inputs.ts';
import { ConflictError, InvalidRequestError, NotFoundError, UnauthorizedError } from '../../core/errors.ts';
import { isId } from '../../core/ids.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../core/json-text.ts';
import { jobInputKey, jobOutputKey, OUTPUT_NAME, outputContentType } from '../../core/payloads/store.ts';
import { releasedWorkerKey, resolveWorker, type WorkerIdentity } from '../../core/workers/identity.ts';
import { bearerToken } from '../../lib/auth/bearer.ts';
import { addKeySpend } from '../../lib/billing/spend.ts';
import { settleEndedAsyncJobs } from '../../lib/jobs/repair.ts';
import { settleAsyncJob } from '../../lib/jobs/settle.ts';
import { appendWorkerLogs } from '../../lib/logs.ts';
import { createRouter } from '../../lib/openapi.ts';
import { createJobQueue, type LeasedJob } from '../../lib/queue/index.ts';

const MAX_WAIT_MS = 20_000;

/** Records and announces async jobs a worker's call ended (a failure the sweep would find later). */
const settleEnded = (services: ServiceContext, ended: string[]) =>
  settleEndedAsyncJobs(services, ended).catch((error: unknown) =>
    services.logger.warn('ended async jobs not recorded yet (the sweep will)', { cause: String(error) }),
  );

type WorkerEnv = AppEnv & { Variables: AppEnv['Variables'] & { worker: WorkerIdentity } };

/** Worker agents present their per-replica token; nothing else is accepted here. */
const workerAuth: MiddlewareHandler<WorkerEnv> = async (c, next) => {
  const token = bearerToken(c.req.header('authorization'));
  if (!token) throw new UnauthorizedError('Missing worker token.');
  c.set('worker', await resolveWorker(c.get('services'), token));
  await next();
};

const JobParams = z.object({
  id: z
    .string()
    .max(64)
    .refine((id) => isId('job', id), 'is not a job id'),
});
const ok = { 200: { description: 'OK' } };

/** A job's files are only for the worker that holds its lease. */
async function requireLease(c: Context<WorkerEnv>, jobId: string) {
  const identity = c.get('worker');
  const book = await createJobQueue(c.get('services').redis).bookkeeping(jobId);
  if (book.state !== 'running' || book.replicaId !== identity.replicaId)
    throw new ConflictError('This job is no longer yours (cancelled, timed out or re-queued).');
}

/**
 * The worker API (hidden from the public document): long-poll for jobs, relay output, complete. It is
 * the only way a worker touches the queue: workers never hold Redis or database credentials.
 */
export const workerApi = createRouter<WorkerEnv>();
workerApi.use('*', workerAuth);

workerApi.openapi(
  createRoute({
    method: 'post',
    path: '/jobs/take',
    hide: true,
    request: json(
      z
        .object({
          max: z.number().int().min(1).max(MAX_CONCURRENCY_PER_REPLICA).default(1),
          wait_ms: z.number().int().min(0).max(MAX_WAIT_MS).default(MAX_WAIT_MS),
        })
        .strict(),
    ),
    responses: ok,
  }),
  async (c) => {
    const { redis, clock, config } = c.get('services');
    const identity = c.get('worker');
    const jobs = createJobQueue(redis);
    const { wait_ms } = c.req.valid('json');
    const max = Math.min(c.req.valid('json').max, identity.concurrency);
    const leaseMs = config.WORKER_LEASE_SECONDS * 1000;
    const until = clock.now().getTime() + wait_ms;
    // A worker that gave up on this poll (it is draining, or died) must not be leased jobs it will
    // never see: they would wait out a whole lease before anyone else could run them.
    const gone = c.req.raw.signal;
    const answer = (leased: LeasedJob[]) =>
      c.json(
        { jobs: leased.map((job) => ({ ...job, deadline_ms: job.deadlineMs })), lease_ms: leaseMs },
        200,
      );
    for (;;) {
      if (gone.aborted) return answer([]);
      const now = clock.now().getTime();
      const {
        jobs: leased,
        stopped,
        ended,
      } = await jobs.take(
        identity.endpointId,
        identity.replicaId,
        max,
        leaseMs,
        now,
        // Released while waiting: take nothing (the next call gets its 401).
        releasedWorkerKey(identity.tokenHash),
      );
      if (ended.length > 0) c.get('services').defer(settleEnded(c.get('services'), ended));
      if (stopped) return answer([]);
      if (leased.length > 0 && gone.aborted) {
        const worker = (job: (typeof leased)[number]) => ({
          replicaId: identity.replicaId,
          attempt: job.attempt,
        });
        await Promise.all(leased.map((job) => jobs.release(job.id, identity.endpointId, worker(job))));
        return answer([]);
      }
      if (leased.length > 0 || now >= until) {
        return answer(leased);
      }
      await jobs.waitForWork(identity.endpointId, Math.min(5_000, until - now));
    }
  },
);

/** A worker streams the output of all its running jobs through one call per batch, not one per job. */
const MAX_BATCHES_PER_CALL = MAX_CONCURRENCY_PER_REPLICA;

workerApi.openapi(
  createRoute({
    method: 'post',
    path: '/jobs/events',
    hide: true,
    request: json(
      z
        .object({
          batches: z
            .array(
              z
                .object({
                  job_id: JobParams.shape.id,
                  attempt: z.number().int().min(1),
                  /** A job's batches count from 1; a resent batch (lost reply) is not appended again. */
                  seq: z.number().int().min(1),
                  chunks: z
                    .array(z.record(z.string(), z.unknown()))
                    .max(256)
                    // What is relayed is serialized again on the way to the client: bounded nesting.
                    .refine(
                      (chunks) => !nestsDeeperThan(chunks, MAX_JSON_DEPTH + 1),
                      `must not nest deeper than ${MAX_JSON_DEPTH} levels`,
                    ),
                })
                .strict(),
            )
            .min(1)
            .max(MAX_BATCHES_PER_CALL)
            .refine(
              (batches) => new Set(batches.map((batch) => batch.job_id)).size === batches.length,
              'each job may appear once per call',
            ),
        })
        .strict(),
    ),
    responses: ok,
  }),
  async (c) => {
    const { redis, clock, config } = c.get('services');
    const identity = c.get('worker');
    const { batches } = c.req.valid('json');
    const now = clock.now().getTime();
    const kept = await createJobQueue(redis).appendMany(
      identity.endpointId,
      identity.replicaId,
      batches.map((batch) => ({
        jobId: batch.job_id,
        attempt: batch.attempt,
        seq: batch.seq,
        chunks: batch.chunks,
      })),
      now + config.WORKER_LEASE_SECONDS * 1000,
      now,
    );
    // Per job: `false` means it is no longer this worker's (cancelled, timed out or re-queued): stop it.
    return c.json({ kept }, 200);
  },
);

const Completion = z
  .object({
    result: z.record(z.string(), z.unknown()).optional(),
    error: z
      .object({
        message: z.string().max(2000),
        type: z.string().max(64).optional(),
        code: z.string().max(64).optional(),
      })
      .strict()
      .optional(),
    gpu_ms: z.number().int().min(0).max(86_400_000),
    attempt: z.number().int().min(1),
  })
  .strict()
  .refine((body) => Boolean(body.result) !== Boolean(body.error), 'send exactly one of result or error');

workerApi.openapi(
  createRoute({
    method: 'post',
    path: '/jobs/{id}/complete',
    hide: true,
    request: { params: JobParams, ...json(Completion) },
    responses: ok,
  }),
  async (c) => {
    const { redis, clock } = c.get('services');
    const identity = c.get('worker');
    const jobs = createJobQueue(redis);
    const { id } = c.req.valid('param');
    const sent = c.req.valid('json');
    // Kept as it came, except nesting past what anything downstream can walk (storing, repairing,
    // serving it would exhaust the stack): the job ends as the model server's failure instead.
    const body =
      sent.result && nestsDeeperThan(sent.result, MAX_JSON_DEPTH)
        ? {
            ...sent,
            result: undefined,
            error: {
              message: `The model server's result nests deeper than ${MAX_JSON_DEPTH} levels and cannot be kept.`,
              type: 'engine_error',
            },
          }
        : sent;
    const now = clock.now().getTime();
    const worker = {
      replicaId: identity.replicaId,
      attempt: body.attempt,
      pricePerHourMicroUsd: identity.pricePerHourMicroUsd,
    };
    // The finish answers with the job's bookkeeping as it stands after it (who finished it, when, its
    // price and key), so recording the end needs no further read.
    const { done, book } = body.result
      ? await jobs.complete(id, identity.endpointId, worker, body.result, body.gpu_ms, now)
      : await jobs.fail(id, identity.endpointId, worker, body.error, body.gpu_ms, now);
    // A retry of a completion whose reply was lost: this attempt already finished it, so the record is
    // written again (idempotently) instead of refusing and leaving an async job unrecorded.
    const finishedByThisAttempt =
      !done &&
      (book.state === 'succeeded' || book.state === 'failed') &&
      book.replicaId === worker.replicaId &&
      book.attempt === worker.attempt;
    if (!done && !finishedByThisAttempt)
      throw new ConflictError('This job is no longer yours (cancelled, timed out or re-queued).');
    // The key's spend cap counts the GPU time of its requests (the endpoint's counts replica uptime),
    // once per job however often the finish is retried (addKeySpend records the job with the add).
    // The finish itself counted the job in the endpoint's metrics and added the replica's busy time.
    await addKeySpend(c.get('services').db, { id, ...book }, new Date(now));
    if (book.isAsync) {
      // Recorded as the job ended: a retry's body may differ (a worker that gave up delivering its
      // result reports a failure) and must not turn a recorded success into a failure.
      const succeeded = book.state === 'succeeded';
      await settleAsyncJob(c.get('services'), id, {
        state: succeeded ? 'succeeded' : 'failed',
        output: done ? body.result : succeeded ? (book.outcome as Record<string, unknown>) : undefined,
        error: done ? body.error : succeeded ? undefined : (book.outcome as typeof body.error),
        gpuSeconds: book.gpuMs / 1000,
        pricePerHourMicroUsd: book.pricePerHourMicroUsd,
        startedAt: book.startedAt,
      });
    }
    return c.json({ ok: true }, 200);
  },
);

workerApi.openapi(
  createRoute({
    method: 'post',
    path: '/jobs/{id}/release',
    hide: true,
    request: { params: JobParams, ...json(z.object({ attempt: z.number().int().min(1) }).strict()) },
    responses: ok,
  }),
  async (c) => {
    const identity = c.get('worker');
    const released = await createJobQueue(c.get('services').redis).release(
      c.req.valid('param').id,
      identity.endpointId,
      { replicaId: identity.replicaId, attempt: c.req.valid('json').attempt },
    );
    if (!released)
      throw new ConflictError('This job is no longer yours (cancelled, timed out or re-queued).');
    return c.json({ ok: true }, 200);
  },
);

workerApi.openapi(
  createRoute({
    method: 'post',
    path: '/jobs/release-unclaimed',
    hide: true,
    request: json(
      z
        .object({
          /** The jobs the worker holds (and will finish or hand back itself). */
          holding: z.array(JobParams.shape.id).max(256),
        })
        .strict(),
    ),
    responses: ok,
  }),
  async (c) => {
    const identity = c.get('worker');
    const services = c.get('services');
    // Called as a worker stops taking: a take it abandoned may have leased it jobs it never saw.
    const { released, ended } = await createJobQueue(services.redis).releaseUnclaimed(
      identity.endpointId,
      identity.replicaId,
      c.req.valid('json').holding,
      services.clock.now().getTime(),
    );
    // Async jobs failed for being handed back too often are recorded and announced now.
    if (ended.length > 0) services.defer(settleEnded(services, ended));
    return c.json({ released }, 200);
  },
);

workerApi.openapi(
  createRoute({
    method: 'post',
    path: '/logs',
    hide: true,
    request: json(
      z
        .object({
          lines: z
            .array(
              z
                .object({
                  // Shown to the customer as the line's time: an ISO timestamp, as the agent writes it.
                  at: z.iso.datetime({ offset: true }),
                  line: z.string().max(8192),
                })
                .strict(),
            )
            .max(500),
        })
        .strict(),
    ),
    responses: ok,
  }),
  async (c) => {
    const identity = c.get('worker');
    await appendWorkerLogs(
      c.get('services').redis,
      identity.endpointId,
      identity.replicaId,
      c.req.valid('json').lines,
    );
    return c.json({ ok: true }, 200);
  },
);

workerApi.openapi(
  createRoute({
    method: 'get',
    path: '/jobs/{id}/input',
    hide: true,
    request: { params: JobParams },
    responses: ok,
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await requireLease(c, id);
    const stored = await c.get('services').payloads.get(jobInputKey(id));
    if (!stored) throw new NotFoundError('This job has no input file (or it has expired).');
    return c.body(stored.body, 200, {
      'content-type': stored.contentType,
      'content-length': String(stored.size),
    }) as unknown as ReturnType<typeof c.json<{ ok: true }, 200>>;
  },
);

workerApi.openapi(
  createRoute({
    method: 'put',
    path: '/jobs/{id}/outputs/{name}',
    hide: true,
    request: {
      params: JobParams.extend({
        name: z.string().regex(OUTPUT_NAME, 'must be a short lowercase file name with a media extension'),
      }),
    },
    responses: ok,
  }),
  async (c) => {
    const { id, name } = c.req.valid('param');
    await requireLease(c, id);
    const bytes = await c.req.arrayBuffer();
    if (bytes.byteLength === 0) throw new InvalidRequestError('The file is empty.');
    await c.get('services').payloads.put(jobOutputKey(id, name), bytes, outputContentType(name));
    return c.json({ ok: true }, 200);
  },
);
