import { z } from 'zod';
import { InvalidRequestError } from '../../core/errors.ts';
import { isId } from '../../core/ids.ts';
import { createRouter } from '../../lib/openapi.ts';
import { RECONCILE_PATH } from '../../lib/orchestrator/nudge.ts';
import { reconcileAll, reconcileEndpoint, replicaEnded } from '../../lib/orchestrator/reconcile.ts';
import { verifiedQStashBody } from '../../lib/qstash.ts';

/** An instance id, a task ARN or a local process reference: short, printable, no spaces. */
const PROVIDER_REF = /^[\w:/.-]{1,256}$/;
/**
 * Why it ended, as the provider said it (an ECS stoppedReason can run long with URLs in it): kept to
 * its first 500 characters rather than refused, or the report would be lost to a 400.
 */
const reason = z
  .string()
  .max(100_000)
  .transform((text) => text.slice(0, 500))
  .nullable()
  .default(null);

const ReconcileRequest = z.union([
  z
    .object({
      endpoint_id: z
        .string()
        .refine((id) => isId('endpoint', id), 'is not an endpoint id')
        .optional(),
    })
    .strict(),
  z
    .object({
      /**
       * The provider reports that a replica's process, task or instance ended: named by its replica id
       * (an ECS task's group) or by the provider's own reference (an EC2 instance id, which is all an
       * instance state-change event carries).
       */
      replica_ended: z.union([
        z
          .object({
            replica_id: z.string().refine((id) => isId('replica', id), 'is not a replica id'),
            // The task that ended (an ECS report carries both): a replica that moved to another task
            // since (placement) is not failed by the stop of the one it left.
            provider_ref: z.string().regex(PROVIDER_REF, 'is not a provider reference').optional(),
            reason,
          })
          .strict(),
        z
          .object({ provider_ref: z.string().regex(PROVIDER_REF, 'is not a provider reference'), reason })
          .strict(),
      ]),
    })
    .strict(),
]);

/**
 * The orchestrator: only QStash may call it (signature over the raw body). A scale-up nudge names one
 * endpoint; the minute schedule sends `{}` and every endpoint is reconciled; the provider's report of
 * a replica that ended (`replica_ended`) fails it and reconciles its endpoint at once.
 */
export const orchestrator = createRouter();

orchestrator.post('/reconcile', async (c) => {
  const ctx = c.get('services');
  const raw = await verifiedQStashBody(ctx, c.req.raw, RECONCILE_PATH);
  let parsed: unknown;
  try {
    parsed = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    throw new InvalidRequestError('The body must be JSON.');
  }
  const request = ReconcileRequest.safeParse(parsed);
  if (!request.success)
    throw new InvalidRequestError(`Invalid reconcile request: ${request.error.issues[0]?.message}`);
  if ('replica_ended' in request.data) {
    const report = request.data.replica_ended;
    const replica =
      'replica_id' in report
        ? { replicaId: report.replica_id, providerRef: report.provider_ref }
        : { providerRef: report.provider_ref };
    const ended = await replicaEnded(ctx, replica, report.reason);
    return c.json({ endpoints: ended?.plan ? [{ endpoint_id: ended.endpointId, ...ended.plan }] : [] }, 200);
  }
  const endpointId = request.data.endpoint_id;
  if (endpointId) {
    const plan = await reconcileEndpoint(ctx, endpointId);
    return c.json({ endpoints: plan ? [{ endpoint_id: endpointId, ...plan }] : [] }, 200);
  }
  const plans = await reconcileAll(ctx);
  return c.json({ endpoints: plans.map(({ endpointId: id, plan }) => ({ endpoint_id: id, ...plan })) }, 200);
});
