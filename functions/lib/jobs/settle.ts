import type { ServiceContext } from '../../context.ts';
import { costMicroUsd } from '../../core/billing/cost.ts';
import { type JobOutcome, recordOutcome } from '../../core/jobs/async.ts';
import { createJobQueue } from '../queue/index.ts';
import { publishDelivery } from '../webhooks/publish.ts';

/**
 * Records an async job's end in Postgres (once) and sends its webhook. Sending happens after the
 * commit; if QStash is unreachable the delivery stays `pending`, and the minute reconcile hands it
 * over (`publishUnsentDeliveries`). Should this fail,
 * the minute sweep (`settleUnsettledJobs`) records the end from the queue.
 */
export async function settleAsyncJob(
  ctx: ServiceContext,
  jobId: string,
  outcome: Omit<JobOutcome, 'costMicroUsd'> & { pricePerHourMicroUsd: number },
): Promise<void> {
  const now = ctx.clock.now();
  const delivery = await ctx.db.transaction((tx) =>
    recordOutcome(
      tx,
      jobId,
      { ...outcome, costMicroUsd: costMicroUsd(outcome.gpuSeconds, outcome.pricePerHourMicroUsd) },
      now,
    ),
  );
  // Off the sweep's list (a lost removal only costs the sweep a look at a recorded job).
  await createJobQueue(ctx.redis)
    .settled([jobId])
    .catch((error: unknown) => ctx.logger.warn('settled job still listed', { jobId, cause: String(error) }));
  if (delivery) {
    await publishDelivery(ctx, delivery.id, true).catch((error: unknown) =>
      ctx.logger.error('webhook not handed to QStash', { deliveryId: delivery.id, cause: String(error) }),
    );
  }
}
