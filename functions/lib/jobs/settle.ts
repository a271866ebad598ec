import type { ServiceContext } from '../../context.ts';
import { type JobOutcome, recordOutcome } from '../../core/jobs/async.ts';
import { publishDelivery } from '../webhooks/publish.ts';

/**
 * Records an async job's end in Postgres (once) and sends its webhook. Sending happens after the
 * commit; if QStash is unreachable the delivery stays `pending` and can be replayed.
 */
export async function settleAsyncJob(
  ctx: ServiceContext,
  jobId: string,
  outcome: Omit<JobOutcome, 'costMicroUsd'> & { pricePerHourMicroUsd: number },
): Promise<void> {
  const costMicroUsd = Math.round((outcome.gpuSeconds * outcome.pricePerHourMicroUsd) / 3600);
  const now = ctx.clock.now();
  const delivery = await ctx.db.transaction((tx) =>
    recordOutcome(tx, jobId, { ...outcome, costMicroUsd }, now),
  );
  if (delivery) {
    await publishDelivery(ctx, delivery.id, true).catch((error: unknown) =>
      ctx.logger.error('webhook not handed to QStash', { deliveryId: delivery.id, cause: String(error) }),
    );
  }
}
