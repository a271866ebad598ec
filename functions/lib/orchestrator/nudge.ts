import type { ServiceContext } from '../../context.ts';
import { createJobQueue } from '../queue/index.ts';

export const RECONCILE_PATH = '/internal/orchestrator/reconcile';

/** Nudges for one endpoint within this window are one QStash message (deduplicated by id). */
const NUDGE_WINDOW_MS = 10_000;

/**
 * After a job is queued: when no worker of the endpoint is polling, or a replica's worth of jobs is
 * already waiting, ask the orchestrator to reconcile the endpoint now rather than at the next minute.
 * One deduplicated message per endpoint per window, however many requests arrive.
 */
export async function nudgeScaleUp(
  ctx: ServiceContext,
  target: { endpointId: string; concurrencyPerReplica: number },
  waiting: number,
) {
  const backlog = waiting >= target.concurrencyPerReplica;
  if (!backlog && (await createJobQueue(ctx.redis).hasLiveWorker(target.endpointId))) return;
  const window = Math.floor(ctx.clock.now().getTime() / NUDGE_WINDOW_MS);
  await ctx.queue.client.publishJSON({
    url: new URL(RECONCILE_PATH, ctx.config.PUBLIC_URL).toString(),
    body: { endpoint_id: target.endpointId },
    deduplicationId: `scale-up-${target.endpointId}-${window}`,
    retries: 3,
  });
}
