import { and, eq, inArray, sql } from 'drizzle-orm';
import { endpoints, gpuTypes, models, replicas } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { randomToken, sha256Hex } from '../../core/auth/secrets.ts';
import { replicaPriceMicroUsd } from '../../core/billing/replica-price.ts';
import { CapacityUnavailableError, type Engine, type ProviderReplica } from '../../core/compute.ts';
import { recordReplicaEvents } from '../../core/replicas/events.ts';
import { NEVER_CAME_UP } from '../../core/scaling/crash-loop.ts';
import type { ReleaseReason } from '../../core/scaling/policy.ts';
import { forgetWorker } from '../../core/workers/identity.ts';
import { createJobQueue } from '../queue/index.ts';
import { reconcileSoon } from './nudge.ts';

interface ReplicaRequest {
  row: typeof replicas.$inferInsert & { id: string; orgId: string; endpointId: string };
  workerToken: string;
  model: typeof models.$inferSelect | undefined;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

const ids = (replica: { id: string; orgId: string; endpointId: string }) => ({
  orgId: replica.orgId,
  endpointId: replica.endpointId,
  replicaId: replica.id,
});

/**
 * Asks the provider for the replica on the endpoint's GPU types in order (or those of them left to
 * try): a type without capacity falls through to the next; when none has any, or the provider fails
 * otherwise, the replica is `failed` with the reason (never left `requested`), and the next reconcile
 * tries again. `why` says, in the replica's event, why it starts where it does (a move).
 */
export async function startReplica(
  ctx: ServiceContext,
  endpoint: typeof endpoints.$inferSelect,
  request: ReplicaRequest,
  gpuTypesToTry: string[] = endpoint.gpuTypes,
  why?: string,
) {
  const { row, workerToken, model } = request;
  const shortages: string[] = [];
  for (const gpuType of gpuTypesToTry) {
    let started: Awaited<ReturnType<ServiceContext['compute']['start']>>;
    try {
      started = await ctx.compute.start({
        replicaId: row.id,
        orgId: endpoint.orgId,
        endpointId: endpoint.id,
        gpuType,
        gpuCount: endpoint.gpuCount,
        engine: (model?.engine ?? 'vllm') as Engine,
        image: endpoint.image,
        model: model?.source ?? null,
        env: endpoint.env,
        concurrency: endpoint.concurrencyPerReplica,
        workerToken,
        controlPlaneUrl: ctx.config.PUBLIC_URL,
      });
    } catch (error) {
      if (error instanceof CapacityUnavailableError) {
        shortages.push(gpuType);
        continue;
      }
      return failed(ctx, row, `the provider could not start it: ${message(error)}`);
    }
    // Outside the try: a database hiccup here must not mark a running replica failed.
    return recordStart(ctx, endpoint, request, gpuType, started.providerRef, why);
  }
  await failed(ctx, row, `no capacity for ${shortages.join(', ')}`);
}

/**
 * Records where the replica runs. The first heartbeat may already have made it `active`, so only a
 * `requested` row becomes `provisioning`; one released meanwhile (a stop raced the start) is stopped
 * at once, so nothing keeps running unrecorded.
 */
async function recordStart(
  ctx: ServiceContext,
  endpoint: typeof endpoints.$inferSelect,
  { row, model }: ReplicaRequest,
  gpuType: string,
  providerRef: string,
  why?: string,
) {
  const [gpu] = await ctx.db
    .select({ id: gpuTypes.id, securePricePerHourMicroUsd: gpuTypes.securePricePerHourMicroUsd })
    .from(gpuTypes)
    .where(eq(gpuTypes.slug, gpuType));
  // Billed at the GPU it got: a fallback type at its own price, not the first choice's.
  const price = gpu ? { pricePerHourMicroUsd: replicaPriceMicroUsd(model, gpu, endpoint.gpuCount) } : {};
  const [recorded] = await ctx.db
    .update(replicas)
    .set({
      providerRef,
      gpuTypeId: gpu?.id ?? row.gpuTypeId,
      ...price,
      state: sql`case when ${replicas.state} = 'requested' then 'provisioning'::replica_state else ${replicas.state} end`,
    })
    .where(eq(replicas.id, row.id))
    .returning({ state: replicas.state });
  if (!recorded || !['requested', 'provisioning', 'active'].includes(recorded.state)) {
    await ctx.compute.stop(providerRef);
    return;
  }
  await recordReplicaEvents(ctx.db, [
    {
      ...ids(row),
      state: 'provisioning',
      detail: `${ctx.compute.name}: ${gpuType} × ${endpoint.gpuCount}${why ? ` (${why})` : ''}`,
    },
  ]);
}

/**
 * A replica the provider accepted but found no machine for (an ECS task waiting on its capacity
 * provider) within `PLACEMENT_TIMEOUT_SECONDS` moves down the deployment's GPU list: the waiting task
 * is stopped and the replica started on the next type, with a new worker token (the old task, placed
 * after all, could take no jobs). On the last type it waits on, up to the startup timeout. Answers
 * whether it moved.
 */
export async function placeElsewhere(
  ctx: ServiceContext,
  row: typeof replicas.$inferSelect,
  waiting: ProviderReplica,
): Promise<boolean> {
  const [endpoint] = await ctx.db.select().from(endpoints).where(eq(endpoints.id, row.endpointId));
  const [current] = await ctx.db
    .select({ slug: gpuTypes.slug })
    .from(gpuTypes)
    .where(eq(gpuTypes.id, row.gpuTypeId));
  if (!endpoint || !current) return false;
  // A type no longer in the list (the deployment was edited) starts the list over.
  const next = endpoint.gpuTypes.slice(endpoint.gpuTypes.indexOf(current.slug) + 1);
  if (next.length === 0) return false;
  const workerToken = `wt_${randomToken(32)}`;
  // Only while it still waits there: a replica whose worker came up meanwhile stays.
  const [claimed] = await ctx.db
    .update(replicas)
    .set({ workerTokenHash: await sha256Hex(workerToken) })
    .where(
      and(
        eq(replicas.id, row.id),
        eq(replicas.providerRef, waiting.providerRef),
        inArray(replicas.state, ['requested', 'provisioning']),
      ),
    )
    .returning();
  if (!claimed) return false;
  await forgetWorker(ctx, row.workerTokenHash);
  await ctx.compute.stop(waiting.providerRef);
  const [model] = endpoint.modelId
    ? await ctx.db.select().from(models).where(eq(models.id, endpoint.modelId))
    : [];
  const minutes = Math.round(ctx.config.PLACEMENT_TIMEOUT_SECONDS / 60);
  ctx.logger.warn('replica moved to the next GPU type', { replicaId: row.id, from: current.slug });
  await startReplica(
    ctx,
    endpoint,
    { row: claimed, workerToken, model },
    next,
    `no ${current.slug} machine for it in ${minutes} min`,
  );
  return true;
}

async function failed(ctx: ServiceContext, replica: ReplicaRequest['row'], reason: string) {
  ctx.logger.warn('replica failed', { replicaId: replica.id, reason });
  // Only one not yet running: a replica whose worker came up meanwhile is left to its own end (a
  // failed row with an uptime and no release would be billed on).
  const [marked] = await ctx.db
    .update(replicas)
    .set({ state: 'failed', failureReason: reason })
    .where(and(eq(replicas.id, replica.id), inArray(replicas.state, ['requested', 'provisioning'])))
    .returning({ id: replicas.id });
  if (marked) await recordReplicaEvents(ctx.db, [{ ...ids(replica), state: 'failed', detail: reason }]);
}

export const RELEASE_DETAILS: Record<ReleaseReason, string> = {
  idle: 'idle for the idle timeout',
  stopped: 'the deployment was stopped',
  over_max: 'above max_replicas',
  unfunded: 'the organization has no funds left',
  spend_cap: 'the deployment reached its spend cap',
  dead: 'the worker stopped sending heartbeats',
  never_started: NEVER_CAME_UP,
  retried: 'released on a retry after a failed or interrupted release',
};

const RELEASING: ('releasing' | 'release_failed')[] = ['releasing', 'release_failed'];

/** Releases after which the endpoint runs nothing, whatever its queue holds. */
const NOTHING_MAY_RUN = new Set<ReleaseReason>(['stopped', 'unfunded', 'spend_cap']);

/**
 * Stops a replica (already marked `releasing`): its token stops working at once, the provider stops
 * it, and its uptime ends at `released`. Jobs it held are re-queued at the next take; when it held
 * any, the endpoint is reconciled again at once, as the plan that released it may have seen none
 * (an idle replica that took a job just before its release), so those jobs get a replica in seconds.
 */
export async function releaseReplica(
  ctx: ServiceContext,
  replica: typeof replicas.$inferSelect,
  reason: ReleaseReason,
) {
  try {
    await forgetWorker(ctx, replica.workerTokenHash);
    const heldJobs = await createJobQueue(ctx.redis).forgetReplica(replica.endpointId, replica.id);
    if (heldJobs > 0 && !NOTHING_MAY_RUN.has(reason)) reconcileSoon(ctx, replica.endpointId);
    if (replica.providerRef) await ctx.compute.stop(replica.providerRef);
    // Only from a release in progress, and its end set once: two retries of one release (overlapping
    // minute runs) must not move the billed end later, nor mark a released replica release_failed.
    const released = await ctx.db
      .update(replicas)
      .set({
        state: 'released',
        releasedAt: sql`coalesce(${replicas.releasedAt}, ${ctx.clock.now()})`,
        // Remembered for the crash-loop count: a replica that never came up failed to start.
        ...(reason === 'never_started' ? { failureReason: NEVER_CAME_UP } : {}),
      })
      .where(and(eq(replicas.id, replica.id), inArray(replicas.state, RELEASING)))
      .returning({ id: replicas.id });
    if (released.length > 0) {
      await recordReplicaEvents(ctx.db, [
        { ...ids(replica), state: 'released', detail: RELEASE_DETAILS[reason] },
      ]);
    }
  } catch (error) {
    const detail = `stop failed: ${message(error)}`;
    ctx.logger.error('replica not released', { replicaId: replica.id, cause: detail });
    await ctx.db
      .update(replicas)
      .set({ state: 'release_failed', failureReason: detail })
      .where(and(eq(replicas.id, replica.id), inArray(replicas.state, RELEASING)));
    await recordReplicaEvents(ctx.db, [{ ...ids(replica), state: 'release_failed', detail }]);
  }
}
