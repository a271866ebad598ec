import { eq, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { jobs, webhookAttempts, webhookDeliveries } from '../../../db/schema/index.ts';
import { InvalidRequestError } from '../../core/errors.ts';
import { isId } from '../../core/ids.ts';
import { toJobView } from '../../core/jobs/view.ts';
import { signingSecretsOf } from '../../core/webhooks/secret.ts';
import { checkWebhookTarget } from '../../core/webhooks/target.ts';
import { asyncResultView } from '../../lib/inference/outputs.ts';
import { createRouter } from '../../lib/openapi.ts';
import { verifiedQStashBody } from '../../lib/qstash.ts';
import { WEBHOOK_RETRIES } from '../../lib/webhooks/publish.ts';

const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * QStash calls this (signature verified over the raw body) for each try of a job webhook. It signs the
 * event with the org's Standard Webhooks secret, posts it, and records the attempt; a non-2xx answer
 * makes QStash retry with backoff, and the last failure marks the delivery failed.
 */
export const webhooksInternal = createRouter();

webhooksInternal.post('/deliver', async (c) => {
  const ctx = c.get('services');
  const raw = await verifiedQStashBody(ctx, c.req.raw, '/internal/webhooks/deliver');
  const deliveryId = (JSON.parse(raw) as { delivery_id?: unknown }).delivery_id;
  if (typeof deliveryId !== 'string' || !isId('webhookDelivery', deliveryId))
    throw new InvalidRequestError('Unknown delivery.');

  const [row] = await ctx.db
    .select({ delivery: webhookDeliveries, job: jobs })
    .from(webhookDeliveries)
    .innerJoin(jobs, eq(jobs.id, webhookDeliveries.jobId))
    .where(eq(webhookDeliveries.id, deliveryId));
  if (!row) throw new InvalidRequestError('Unknown delivery.');
  if (row.delivery.status === 'succeeded') return c.json({ delivered: true }, 200);

  const sentAt = ctx.clock.now();
  const payload = JSON.stringify({
    type: row.delivery.event,
    timestamp: sentAt.toISOString(),
    data: toJobView(row.job, { result: await asyncResultView(ctx, row.job, row.job.output) }),
  });
  // One signature per secret in use (a rotated-out one still in its grace period signs too).
  const secrets = await signingSecretsOf(ctx.db, row.delivery.orgId, sentAt);
  const signature = secrets.map((secret) => new Webhook(secret).sign(deliveryId, sentAt, payload)).join(' ');
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const target = checkWebhookTarget(row.delivery.url, {
      allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    });
    const response = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'AI-Cloud-Webhooks/1.0',
        'webhook-id': deliveryId,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body: payload,
      // A redirect could lead anywhere, including inside a network: it counts as a failure.
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    statusCode = response.status;
    await response.body?.cancel();
  } catch (thrown) {
    error = thrown instanceof Error ? thrown.message.slice(0, 500) : String(thrown);
  }
  const delivered = statusCode !== null && statusCode >= 200 && statusCode < 300;
  const retried = Number(c.req.header('upstash-retried') ?? 0);
  const status = delivered ? 'succeeded' : retried >= WEBHOOK_RETRIES ? 'failed' : 'pending';
  await ctx.db.transaction(async (tx) => {
    await tx.insert(webhookAttempts).values({
      deliveryId,
      statusCode,
      error,
      durationMs: ctx.clock.now().getTime() - sentAt.getTime(),
    });
    await tx
      .update(webhookDeliveries)
      .set({
        status,
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        lastStatusCode: statusCode,
        lastError: error,
      })
      .where(eq(webhookDeliveries.id, deliveryId));
  });
  return delivered
    ? c.json({ delivered: true }, 200)
    : c.json({ delivered: false, status_code: statusCode, error }, 502);
});
