import { and, eq } from 'drizzle-orm';
import { type endpoints, gpuTypes, type models, replicas } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { CapacityUnavailableError, type Engine } from '../../core/compute.ts';
import type { ReleaseReason } from '../../core/scaling/policy.ts';
import { forgetWorker } from '../../core/workers/identity.ts';
import { createJobQueue } from '../queue/index.ts';

interface ReplicaRequest {
  row: typeof replicas.$inferInsert & { id: string };
  workerToken: string;
  model: typeof models.$inferSelect | undefined;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Asks the provider for the replica on the endpoint's GPU types in order: a type without capacity
 * falls through to the next; when none has any, or the provider fails otherwise, the replica is
 * `failed` with the reason (never left `requested`), and the next reconcile tries again.
 */
export async function startReplica(
  ctx: ServiceContext,
  endpoint: typeof endpoints.$inferSelect,
  request: ReplicaRequest,
) {
  const { row, workerToken, model } = request;
  const shortages: string[] = [];
  for (const gpuType of endpoint.gpuTypes) {
    try {
      const started = await ctx.compute.start({
        replicaId: row.id,
        orgId: endpoint.orgId,
        endpointId: endpoint.id,
        gpuType,
        gpuCount: endpoint.gpuCount,
        engine: (model?.engine ?? 'vllm') as Engine,
        image: endpoint.image,
        model: model?.source ?? null,
        env: endpoint.env,
        workerToken,
        controlPlaneUrl: ctx.config.PUBLIC_URL,
      });
      const [gpu] = await ctx.db.select({ id: gpuTypes.id }).from(gpuTypes).where(eq(gpuTypes.slug, gpuType));
      await ctx.db
        .update(replicas)
        .set({ state: 'provisioning', providerRef: started.providerRef, gpuTypeId: gpu?.id ?? row.gpuTypeId })
        // Released meanwhile (a stop raced the start): leave it released.
        .where(and(eq(replicas.id, row.id), eq(replicas.state, 'requested')));
      return;
    } catch (error) {
      if (error instanceof CapacityUnavailableError) {
        shortages.push(gpuType);
        continue;
      }
      return failed(ctx, row.id, `the provider could not start it: ${message(error)}`);
    }
  }
  await failed(ctx, row.id, `no capacity for ${shortages.join(', ')}`);
}

async function failed(ctx: ServiceContext, replicaId: string, reason: string) {
  ctx.logger.warn('replica failed', { replicaId, reason });
  await ctx.db
    .update(replicas)
    .set({ state: 'failed', failureReason: reason })
    .where(eq(replicas.id, replicaId));
}

const REASONS: Record<ReleaseReason, string | null> = {
  idle: null,
  stopped: null,
  over_max: null,
  unfunded: 'the organization has no funds left',
  dead: 'the worker stopped sending heartbeats',
  never_started: 'the worker never came up',
};

/**
 * Stops a replica (already marked `releasing`): its token stops working at once, the provider stops
 * it, and its uptime ends at `released`. Jobs it held are re-queued when their leases lapse.
 */
export async function releaseReplica(
  ctx: ServiceContext,
  replica: typeof replicas.$inferSelect,
  reason: ReleaseReason,
) {
  await forgetWorker(ctx, replica.workerTokenHash);
  await createJobQueue(ctx.redis).forgetReplica(replica.endpointId, replica.id);
  try {
    if (replica.providerRef) await ctx.compute.stop(replica.providerRef);
    await ctx.db
      .update(replicas)
      .set({ state: 'released', releasedAt: ctx.clock.now(), failureReason: REASONS[reason] })
      .where(eq(replicas.id, replica.id));
  } catch (error) {
    ctx.logger.error('replica not released', { replicaId: replica.id, cause: message(error) });
    await ctx.db
      .update(replicas)
      .set({ state: 'release_failed', failureReason: `stop failed: ${message(error)}` })
      .where(eq(replicas.id, replica.id));
  }
}
