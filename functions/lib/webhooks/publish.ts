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
