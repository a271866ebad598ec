import { and, eq, gt, lt } from 'drizzle-orm';
import { webhookDeliveries } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';

/** QStash retries a failed delivery this many times, with its exponential backoff. */
export const WEBHOOK_RETRIES = 5;

/**
 * Hands a delivery to QStash, which calls our delivery route until the customer's server accepts it.
 * The message carries only the delivery id: payloads and secrets never leave the platform through it.
 */
export async function publishDelivery(
  ctx: ServiceContext,
  deliveryId: string,
  deduplicate: boolean,
): Promise<void> {
  await ctx.queue.client.publishJSON({
    url: new URL('/internal/webhooks/deliver', ctx.config.PUBLIC_URL).toString(),
    body: { delivery_id: deliveryId },
    retries: WEBHOOK_RETRIES,
    ...(deduplicate ? { deduplicationId: deliveryId } : {}),
  });
}

/** A delivery not tried this long after it was recorded was never handed to QStash. */
export const UNSENT_AFTER_MS = 2 * 60_000;
/** Older ones are left to the dashboard's replay: their job ended over a day ago. */
const UNSENT_LOOKBACK_MS = 24 * 3_600_000;

/**
 * Deliveries recorded but never tried: the publish after the job's end failed (QStash unreachable or
 * refusing for a moment), and no delivery route call ever came. Handed to QStash again, deduplicated
 * by delivery id (a publish that did land, its reply lost, is not sent twice), from the minute
 * reconcile. Answers how many were handed over.
 */
export async function publishUnsentDeliveries(ctx: ServiceContext, limit = 100): Promise<number> {
  const nowMs = ctx.clock.now().getTime();
  const unsent = await ctx.db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.status, 'pending'),
        eq(webhookDeliveries.attempts, 0),
        lt(webhookDeliveries.createdAt, new Date(nowMs - UNSENT_AFTER_MS)),
        gt(webhookDeliveries.createdAt, new Date(nowMs - UNSENT_LOOKBACK_MS)),
      ),
    )
    .limit(limit);
  let published = 0;
  for (const { id } of unsent) {
    try {
      await publishDelivery(ctx, id, true);
      published++;
    } catch (error) {
      ctx.logger.error('webhook not handed to QStash', { deliveryId: id, cause: String(error) });
    }
  }
  return published;
}
