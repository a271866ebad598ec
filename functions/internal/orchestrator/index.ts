import { z } from 'zod';
import { InvalidRequestError } from '../../core/errors.ts';
import { isId } from '../../core/ids.ts';
import { createRouter } from '../../lib/openapi.ts';
import { RECONCILE_PATH } from '../../lib/orchestrator/nudge.ts';
import { reconcileAll, reconcileEndpoint, replicaEnded } from '../../lib/orchestrator/reconcile.ts';
import { verifiedQStashBody } from '../../lib/qstash.ts';

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
      /** The provider reports that this replica's process or task ended. */
      replica_ended: z
        .object({
          replica_id: z.string().refine((id) => isId('replica', id), 'is not a replica id'),
          reason: z.string().max(500).nullable().default(null),
        })
        .strict(),
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
    const { replica_id, reason } = request.data.replica_ended;
    const ended = await replicaEnded(ctx, replica_id, reason);
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
