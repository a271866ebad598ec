import { and, asc, desc, eq, inArray, lt } from 'drizzle-orm';
import { webhookAttempts, webhookDeliveries } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { auditActorOf, recordAudit } from '../audit/record.ts';
import { NotFoundError } from '../errors.ts';
import { isId } from '../ids.ts';
import { authorize } from '../orgs/authorize.ts';
import { pageOf } from '../page.ts';

const toView = (
  row: typeof webhookDeliveries.$inferSelect,
  attempts: (typeof webhookAttempts.$inferSelect)[],
) => ({
  id: row.id,
  object: 'webhook_delivery' as const,
  job_id: row.jobId,
  event: row.event,
  url: row.url,
  status: row.status,
  attempts: attempts.map((attempt) => ({
    at: attempt.at.toISOString(),
    status_code: attempt.statusCode,
    error: attempt.error,
    duration_ms: attempt.durationMs,
  })),
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

/** The org's webhook deliveries, newest first, each with every attempt and what the receiver said. */
export async function listDeliveries({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { limit: number; after?: string | undefined; jobId?: string | undefined };
}) {
  const { caller } = authorize(ctx.caller, 'endpoint.read');
  const rows = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.orgId, caller.orgId),
        input.jobId ? eq(webhookDeliveries.jobId, input.jobId) : undefined,
        input.after ? lt(webhookDeliveries.id, input.after) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(input.limit + 1);
  const shown = rows.slice(0, input.limit);
  const attempts =
    shown.length === 0
      ? []
      : await ctx.db
          .select()
          .from(webhookAttempts)
          .where(
            inArray(
              webhookAttempts.deliveryId,
              shown.map((row) => row.id),
            ),
          )
          .orderBy(asc(webhookAttempts.at));
  return pageOf(rows, input.limit, (row) =>
    toView(
      row,
      attempts.filter((attempt) => attempt.deliveryId === row.id),
    ),
  );
}

/** Sends a delivery again (after fixing the receiver, say): back to `pending`, handed to QStash. */
export async function replayDelivery({
  ctx,
  id,
  publish,
}: {
  ctx: ServiceContext;
  id: string;
  publish: (deliveryId: string) => Promise<void>;
}) {
  const { caller } = authorize(ctx.caller, 'endpoint.manage');
  const notFound = new NotFoundError('Webhook delivery not found.', { param: 'id' });
  if (!isId('webhookDelivery', id)) throw notFound;
  const row = await ctx.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(webhookDeliveries)
      .set({ status: 'pending' })
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.orgId, caller.orgId)))
      .returning();
    if (!updated) throw notFound;
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'webhook_delivery.replay',
      targetType: 'webhook_delivery',
      targetId: id,
      origin: ctx.origin,
    });
    return updated;
  });
  await publish(row.id);
  return toView(row, []);
}
