import type { ServiceContext } from '../../context.ts';
import { addKeySpend } from '../billing/spend.ts';
import { createJobQueue } from '../queue/index.ts';

/**
 * The edge stops a queued or running job (its client went away, its deadline passed, it was
 * cancelled). The GPU time a running one used up to now counts against its key's caps: otherwise a
 * capped key could run long generations and walk away before they end. False if it had already ended.
 */
export async function stopJob(
  ctx: ServiceContext,
  job: { id: string; endpointId: string },
  state: 'cancelled' | 'timed_out',
): Promise<boolean> {
  const now = ctx.clock.now();
  const { done, book } = await createJobQueue(ctx.redis).stop(job.id, job.endpointId, state, now.getTime());
  // The stop is the answer: a database down now must not turn the caller's final 408, 504 or
  // cancellation into a retryable 503 (which would run the job again). Awaited, not deferred: a stream
  // that stops its job has no request left to wait for deferred work.
  // Counted once per job, so also when this stop is a re-run whose first reply was lost (it finds the
  // job already in the state it asked for).
  if (done || book.state === state)
    await addKeySpend(ctx.db, { id: job.id, ...book }, now).catch((error: unknown) =>
      ctx.logger.error('spend of a stopped job not counted', { jobId: job.id, cause: String(error) }),
    );
  return done;
}
