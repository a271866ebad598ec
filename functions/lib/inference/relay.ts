import {
  DeadlineExceededError,
  EngineError,
  InvalidRequestError,
  QueueTimeoutError,
  ServiceError,
} from '../../core/errors.ts';
import type { JobEvent, JobQueue } from '../queue/index.ts';

/** How long one read of the output stream blocks before the deadline and the client are re-checked. */
const READ_BLOCK_MS = 5_000;

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
}

/**
 * Waits for a job's end while relaying its output, until its deadline. Ends it as `timed_out` when
 * the deadline passes first and as `cancelled` when `signal` aborts (the client disconnected).
 * `retried`: the client sent an Idempotency-Key, so a retry will join this job and read its output.
 */
export async function awaitJob(
  queue: JobQueue,
  job: { id: string; endpointId: string; deadlineMs: number; timeoutSeconds: number },
  hooks: RelayHooks,
  signal: AbortSignal,
  now: () => number,
  retried = false,
): Promise<JobOutcome> {
  try {
    return await relay(queue, job, hooks, signal, now, retried);
  } catch (error) {
    // Whatever ended the wait (a lost stream, Redis trouble), nobody will read this job's output now —
    // unless the client will retry with its key: then the job runs on (its deadline still bounds it)
    // and the retry finds it. Otherwise stop it, so no GPU works for a client that is gone.
    if (!retried) await queue.stop(job.id, job.endpointId, 'cancelled', now()).catch(() => {});
    throw error;
  }
}

async function relay(
  queue: JobQueue,
  job: { id: string; endpointId: string; deadlineMs: number; timeoutSeconds: number },
  hooks: RelayHooks,
  signal: AbortSignal,
  now: () => number,
  retried: boolean,
): Promise<JobOutcome> {
  const clientGone = async (): Promise<never> => {
    if (retried) throw new ServiceError('timeout', 'The client closed the request; the job runs on.');
    await queue.stop(job.id, job.endpointId, 'cancelled', now());
    throw new ServiceError('timeout', 'The client closed the request; the job was cancelled.');
  };
  let cursor = '0';
  for (;;) {
    if (signal.aborted) return clientGone();
    const remaining = job.deadlineMs - now();
    if (remaining <= 0) {
      const neverStarted = (await queue.state(job.id)) === 'queued';
      await queue.stop(job.id, job.endpointId, 'timed_out', now());
      throw neverStarted
        ? new QueueTimeoutError(job.timeoutSeconds)
        : new DeadlineExceededError(job.timeoutSeconds);
    }
    const read = await queue.read(job.id, cursor, Math.min(READ_BLOCK_MS, remaining));
    cursor = read.cursor;
    for (const event of read.events) {
      const end = await handle(event, hooks, job.timeoutSeconds);
      if (end === 'stop') return clientGone();
      if (end) return end;
    }
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
      return { result: event.data, gpuMs: event.gpuMs };
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
