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
  if (done) await addKeySpend(ctx.db, book, now);
  return done;
}
