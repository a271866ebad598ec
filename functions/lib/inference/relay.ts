import type { ServiceContext } from '../../context.ts';
import {
  DeadlineExceededError,
  EngineError,
  InvalidRequestError,
  QueueTimeoutError,
  ServiceError,
} from '../../core/errors.ts';
import { stopJob } from '../jobs/stop.ts';
import { createJobQueue, type JobEvent } from '../queue/index.ts';

/** How long one read of the output stream blocks before the deadline and the client are re-checked. */
const READ_BLOCK_MS = 5_000;

/**
 * Relays waiting in this isolate. Each read of a job's output is a round trip to Redis, and a stream
 * that produces a delta every 20 ms would cost 50 of them a second; with many relays at once those
 * reads crowd out new requests. So after a read that brought output, the next one waits a little,
 * longer the more relays there are (0.5 ms each, at most 100 ms): deltas produced meanwhile arrive
 * together. A lone stream is relayed as it comes; the first output of a job is never held back.
 */
let activeRelays = 0;
const PACE_MS_PER_RELAY = 0.5;
const MAX_PACE_MS = 100;
const readPaceMs = () => Math.min(MAX_PACE_MS, (activeRelays - 1) * PACE_MS_PER_RELAY);

export interface RelayHooks {
  /** Each output chunk, in order; return false to stop (the client went away). */
  onChunk?: (data: unknown) => Promise<boolean>;
  /** The job was given to another worker: chunks already relayed will be produced again. */
  onRequeued?: () => void;
}

export interface JobOutcome {
  result: unknown;
  /** The GPU time the worker reported for the job. */
  gpuMs: number;
  /** The job's price per hour, the replica's that ran it; null when the event did not carry one. */
  pricePerHourMicroUsd: number | null;
}

/**
 * Waits for a job's end while relaying its output, until its deadline. Ends it as `timed_out` when
 * the deadline passes first and as `cancelled` when `signal` aborts (the client disconnected).
 * `retried`: the client sent an Idempotency-Key, so a retry will join this job and read its output.
 */
export async function awaitJob(
  ctx: ServiceContext,
  job: WaitedJob,
  hooks: RelayHooks,
  signal: AbortSignal,
  retried = false,
): Promise<JobOutcome> {
  activeRelays += 1;
  try {
    return await relay(ctx, job, hooks, signal, retried);
  } catch (error) {
    // Whatever ended the wait (a lost stream, Redis trouble), nobody will read this job's output now —
    // unless the client will retry with its key: then the job runs on (its deadline still bounds it)
    // and the retry finds it. Otherwise stop it, so no GPU works for a client that is gone.
    if (!retried) await stopJob(ctx, job, 'cancelled').catch(() => {});
    throw error;
  } finally {
    activeRelays -= 1;
  }
}

interface WaitedJob {
  id: string;
  endpointId: string;
  deadlineMs: number;
  timeoutSeconds: number;
}

async function relay(
  ctx: ServiceContext,
  job: WaitedJob,
  hooks: RelayHooks,
  signal: AbortSignal,
  retried: boolean,
): Promise<JobOutcome> {
  const queue = createJobQueue(ctx.redis);
  const now = () => ctx.clock.now().getTime();
  const clientGone = async (): Promise<never> => {
    if (retried) throw new ServiceError('timeout', 'The client closed the request; the job runs on.');
    await stopJob(ctx, job, 'cancelled');
    throw new ServiceError('timeout', 'The client closed the request; the job was cancelled.');
  };
  /** Relays a read's events in order; the first that ends the job (or the client) ends the wait. */
  const handleAll = async (events: JobEvent[]) => {
    for (const event of events) {
      const end = await handle(event, hooks, job.timeoutSeconds);
      if (end) return end;
    }
    return null;
  };
  // A retry joins the job where its current attempt began: replaying a lost attempt's output would
  // end it in the error a client gets when output it already received is produced again.
  let cursor = retried ? await queue.replayCursor(job.id) : '0';
  for (;;) {
    if (signal.aborted) return clientGone();
    const remaining = job.deadlineMs - now();
    if (remaining <= 0) {
      const neverStarted = (await queue.state(job.id)) === 'queued';
      if (!(await stopJob(ctx, job, 'timed_out'))) {
        // It ended before the stop could (its answer landed after the last read): its end is in the
        // stream, answered and billed, so it is what the client gets, not a timeout.
        const end = await handleAll((await queue.read(job.id, cursor, 0)).events);
        if (end === 'stop') return clientGone();
        if (end) return end;
      }
      throw neverStarted
        ? new QueueTimeoutError(job.timeoutSeconds)
        : new DeadlineExceededError(job.timeoutSeconds);
    }
    const read = await queue.read(job.id, cursor, Math.min(READ_BLOCK_MS, remaining));
    cursor = read.cursor;
    const end = await handleAll(read.events);
    if (end === 'stop') return clientGone();
    if (end) return end;
    const pace = read.events.length > 0 ? readPaceMs() : 0;
    if (pace >= 1) await new Promise((resolve) => setTimeout(resolve, pace));
  }
}

async function handle(
  event: JobEvent,
  hooks: RelayHooks,
  timeoutSeconds: number,
): Promise<JobOutcome | 'stop' | null> {
  switch (event.type) {
    case 'chunk':
      if (hooks.onChunk && !(await hooks.onChunk(event.data))) return 'stop';
      return null;
    case 'result':
      return { result: event.data, gpuMs: event.gpuMs, pricePerHourMicroUsd: event.pricePerHourMicroUsd };
    case 'error': {
      const detail = event.data as { message?: string; type?: string } | null;
      // The engine refused the request itself (too long a prompt, unsupported input): the caller's to fix.
      if (detail?.type === 'invalid_request_error')
        throw new InvalidRequestError(detail.message ?? 'The model refused the request.');
      throw new EngineError(`The model server failed this request: ${detail?.message ?? 'unknown error'}`);
    }
    case 'requeued':
      hooks.onRequeued?.();
      return null;
    case 'timed_out':
      throw new DeadlineExceededError(timeoutSeconds);
    case 'cancelled':
      throw new ServiceError('conflict', 'The job was cancelled.');
  }
}
