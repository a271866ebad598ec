import type { ServiceContext } from '../../context.ts';
import { scaleUpNudgeId } from '../../core/scaling/nudge.ts';

export const RECONCILE_PATH = '/internal/orchestrator/reconcile';

/**
 * After a deployment is created, changed, stopped, started or deleted: reconcile it now, so replicas
 * start or stop (and billing with them) within seconds, not at the next minute. Runs after the
 * response; a lost message is covered by the minute schedule.
 */
export function reconcileSoon(ctx: ServiceContext, endpointId: string): void {
  ctx.defer(
    ctx.queue.client
      .publishJSON({
        url: new URL(RECONCILE_PATH, ctx.config.PUBLIC_URL).toString(),
        body: { endpoint_id: endpointId },
        retries: 3,
      })
      .catch((error: unknown) =>
        ctx.logger.warn('reconcile after a deployment change not sent', { endpointId, cause: String(error) }),
      ),
  );
}

/**
 * After a job is queued: when no worker of the endpoint is polling, or a replica's worth of jobs is
 * already waiting, ask the orchestrator to reconcile the endpoint now rather than at the next minute.
 * Deduplicated per endpoint and window, with one more message each time the backlog doubles.
 */
export async function nudgeScaleUp(
  ctx: ServiceContext,
  target: { endpointId: string; concurrencyPerReplica: number },
  queued: { waiting: number; workerPolling: boolean; replicasGone: number },
) {
  const { waiting } = queued;
  if (queued.workerPolling && waiting < target.concurrencyPerReplica) return;
  await ctx.queue.client.publishJSON({
    url: new URL(RECONCILE_PATH, ctx.config.PUBLIC_URL).toString(),
    body: { endpoint_id: target.endpointId },
    deduplicationId: scaleUpNudgeId({
      endpointId: target.endpointId,
      nowMs: ctx.clock.now().getTime(),
      waiting,
      concurrencyPerReplica: target.concurrencyPerReplica,
      workerPolling: queued.workerPolling,
      replicasGone: queued.replicasGone,
    }),
    retries: 3,
  });
}
