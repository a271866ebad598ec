import { and, eq, gt, inArray, isNull, lt, notExists, or, sql } from 'drizzle-orm';
import {
  endpoints,
  gpuTypes,
  models,
  orgBalances,
  replicaEvents,
  replicas,
} from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { recordAudit } from '../../core/audit/record.ts';
import { randomToken, sha256Hex } from '../../core/auth/secrets.ts';
import { capReached, endpointSubject } from '../../core/billing/caps.ts';
import { replicaPriceMicroUsd } from '../../core/billing/replica-price.ts';
import { newId } from '../../core/ids.ts';
import { recordReplicaEvents } from '../../core/replicas/events.ts';
import { NO_FAILED_STARTS } from '../../core/scaling/crash-loop.ts';
import { planScaling, type ReleaseReason, type ScalingPlan } from '../../core/scaling/policy.ts';
import { forgetWorker } from '../../core/workers/identity.ts';
import { refillDueOrgs } from '../billing/auto-refill.ts';
import { meterReplicas } from '../billing/meter.ts';
import { pruneKeySpends, spendOf } from '../billing/spend.ts';
import { settleUnsettledJobs, sweepOverdueJobs } from '../jobs/repair.ts';
import { createJobQueue } from '../queue/index.ts';
import { publishUnsentDeliveries } from '../webhooks/publish.ts';
import { failedStartsOf } from './failed-starts.ts';
import { placeElsewhere, RELEASE_DETAILS, releaseReplica, startReplica } from './replicas.ts';

const LIVE = ['requested', 'provisioning', 'active'] as const;

/** The later of two optional times; null when neither is known. */
const latest = (a: number | undefined, b: number | undefined): number | null =>
  a === undefined && b === undefined ? null : Math.max(a ?? 0, b ?? 0);

/**
 * Brings one endpoint to its desired replica count. Planning and the new replicas' rows happen under
 * a row lock on the endpoint, so two reconciles at once (a scale-up nudge and the schedule) see each
 * other's requested replicas and never start more than the plan; provider calls happen after commit.
 */
export async function reconcileEndpoint(
  ctx: ServiceContext,
  endpointId: string,
): Promise<ScalingPlan | null> {
  const queue = createJobQueue(ctx.redis);
  const [depth, marks] = await Promise.all([queue.depth(endpointId), queue.replicaMarks(endpointId)]);
  const nowMs = ctx.clock.now().getTime();
  const decided = await ctx.db.transaction(async (tx) => {
    const [endpoint] = await tx.select().from(endpoints).where(eq(endpoints.id, endpointId)).for('update');
    if (!endpoint) return null;
    const [balance] = await tx
      .select({ microUsd: orgBalances.balanceMicroUsd })
      .from(orgBalances)
      .where(eq(orgBalances.orgId, endpoint.orgId));
    const spend = (await spendOf(tx, [endpointSubject(endpoint.id)], ctx.clock.now())).get(
      endpointSubject(endpoint.id),
    );
    const live = await tx
      .select()
      .from(replicas)
      .where(and(eq(replicas.endpointId, endpointId), inArray(replicas.state, [...LIVE])));
    const plan = planScaling({
      knobs: endpoint,
      queued: depth.queued,
      running: depth.running,
      replicas: live.map((replica) => ({
        id: replica.id,
        state: replica.state as (typeof LIVE)[number],
        requestedAtMs: replica.requestedAt.getTime(),
        lastSeenAtMs: latest(replica.lastHeartbeatAt?.getTime(), marks.seen[replica.id]),
        lastBusyAtMs: marks.busy[replica.id] ?? null,
      })),
      stopped: endpoint.state === 'stopped' || endpoint.deletedAt !== null,
      // At zero balance every replica is released: usage past zero is at most one metering interval.
      funded: (balance?.microUsd ?? 0) > 0,
      spendCapReached: capReached(endpoint, spend ?? { day: 0, month: 0 }) !== null,
      leaseMs: ctx.config.WORKER_LEASE_SECONDS * 1000,
      failedStarts: (await failedStartsOf(tx, [endpoint.id])).get(endpoint.id) ?? NO_FAILED_STARTS,
      nowMs,
    });
    if (plan.hold?.kind === 'give_up') await stopFailingEndpoint(ctx, tx, endpoint, plan.hold.failedStarts);
    const releasing = await markReleasing(
      tx,
      plan.release.map(({ id }) => id),
    );
    const requested = plan.start > 0 ? await requestReplicas(ctx, tx, endpoint, plan.start) : [];
    await recordReplicaEvents(tx, [
      ...plan.release
        .filter(({ id }) => releasing.includes(id))
        .map(({ id, reason }) => ({
          orgId: endpoint.orgId,
          endpointId,
          replicaId: id,
          state: 'releasing' as const,
          detail: RELEASE_DETAILS[reason],
        })),
      ...requested.map(({ row }) => ({
        orgId: endpoint.orgId,
        endpointId,
        replicaId: row.id,
        state: 'requested' as const,
        detail: `queue: ${depth.queued} waiting, ${depth.running} running`,
      })),
    ]);
    return { plan, endpoint, requested, released: live.filter((replica) => releasing.includes(replica.id)) };
  });
  if (!decided) return null;
  const reasons = new Map<string, ReleaseReason>(decided.plan.release.map((r) => [r.id, r.reason]));
  await Promise.all([
    ...decided.released.map((replica) => releaseReplica(ctx, replica, reasons.get(replica.id) ?? 'idle')),
    ...decided.requested.map((request) => startReplica(ctx, decided.endpoint, request)),
  ]);
  if (decided.plan.hold?.kind === 'backoff') {
    ctx.logger.info('replica start held back after failed starts', {
      endpointId,
      failedStarts: decided.plan.hold.failedStarts,
      until: new Date(decided.plan.hold.untilMs).toISOString(),
    });
  }
  if (decided.plan.start > 0 || decided.plan.release.length > 0) {
    ctx.logger.info('endpoint scaled', {
      endpointId,
      desired: decided.plan.desired,
      started: decided.plan.start,
      released: decided.plan.release,
    });
  }
  return decided.plan;
}

type Transaction = Parameters<Parameters<ServiceContext['db']['transaction']>[0]>[0];

/**
 * A deployment whose replicas failed to start `GIVE_UP_AFTER` times in a row with none running is
 * stopped, as its owner would stop it (requests are answered "stopped" at once instead of waiting on
 * a replica that will not come), and the audit log says why; starting it again, or changing its
 * settings, tries afresh. The replicas' own events carry each failure's reason.
 */
async function stopFailingEndpoint(
  ctx: ServiceContext,
  tx: Transaction,
  endpoint: typeof endpoints.$inferSelect,
  failedStarts: number,
) {
  await tx.update(endpoints).set({ state: 'stopped' }).where(eq(endpoints.id, endpoint.id));
  await recordAudit(tx, {
    orgId: endpoint.orgId,
    actor: { type: 'system', id: 'orchestrator' },
    action: 'deployment.stop',
    targetType: 'deployment',
    targetId: endpoint.id,
    origin: { ip: null, userAgent: null },
    metadata: { reason: 'failed_starts', failed_starts: failedStarts },
  });
  ctx.logger.warn('deployment stopped: its replicas keep failing to start', {
    endpointId: endpoint.id,
    failedStarts,
  });
}

/**
 * Marks the plan's replicas `releasing`, only those still live: one the provider reported ended
 * meanwhile stays failed with its end as recorded (a release would move its billed end later).
 * Answers the ids marked.
 */
async function markReleasing(tx: Transaction, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const marked = await tx
    .update(replicas)
    .set({ state: 'releasing' })
    .where(and(inArray(replicas.id, ids), inArray(replicas.state, [...LIVE])))
    .returning({ id: replicas.id });
  return marked.map(({ id }) => id);
}

/** Rows for new replicas (state `requested`), priced at the endpoint's first-choice GPU. */
async function requestReplicas(
  ctx: ServiceContext,
  tx: Transaction,
  endpoint: typeof endpoints.$inferSelect,
  count: number,
) {
  const [first] = endpoint.gpuTypes;
  const [gpu] = await tx
    .select()
    .from(gpuTypes)
    .where(eq(gpuTypes.slug, first ?? ''));
  const [model] = endpoint.modelId
    ? await tx.select().from(models).where(eq(models.id, endpoint.modelId))
    : [];
  if (!gpu) throw new Error(`endpoint ${endpoint.id} names an unknown GPU type ${first}`);
  const price = replicaPriceMicroUsd(model, gpu, endpoint.gpuCount);
  const requests = [];
  for (let i = 0; i < count; i++) requests.push(await newReplicaRow(ctx, endpoint, gpu.id, price));
  await tx.insert(replicas).values(requests.map((request) => request.row));
  return requests.map((request) => ({ ...request, model }));
}

async function newReplicaRow(
  ctx: ServiceContext,
  endpoint: typeof endpoints.$inferSelect,
  gpuTypeId: string,
  price: number,
) {
  const workerToken = `wt_${randomToken(32)}`;
  const row = {
    id: newId('replica'),
    orgId: endpoint.orgId,
    endpointId: endpoint.id,
    gpuTypeId,
    gpuCount: endpoint.gpuCount,
    provider: ctx.compute.name,
    state: 'requested' as const,
    workerTokenHash: await sha256Hex(workerToken),
    pricePerHourMicroUsd: price,
  };
  return { row, workerToken };
}

/**
 * What the provider runs, set against what the database believes: a replica whose process or task
 * ended on its own (crash, spot interruption) is marked failed at once, without waiting out its
 * heartbeat; a task or process the database does not hold as live (an orphan: a start whose record
 * was lost, a stop that failed) is stopped.
 */
export async function reconcileProvider(ctx: ServiceContext) {
  const running = await ctx.compute.list();
  if (running.length === 0) return { orphansStopped: 0, failed: 0, moved: 0 };
  const rows = await ctx.db
    .select()
    .from(replicas)
    .where(
      inArray(
        replicas.id,
        running.map((replica) => replica.replicaId),
      ),
    );
  const known = new Map(rows.map((row) => [row.id, row]));
  let orphansStopped = 0;
  let failed = 0;
  let moved = 0;
  const placementDeadline = ctx.clock.now().getTime() - ctx.config.PLACEMENT_TIMEOUT_SECONDS * 1000;
  for (const seen of running) {
    const recorded = known.get(seen.replicaId);
    // A replica's current task or instance; an earlier one it moved from (placement) is not it, and
    // one still running is an orphan. A start not yet recorded has no reference to compare.
    const row =
      recorded?.providerRef == null || recorded.providerRef === seen.providerRef ? recorded : undefined;
    const live = row !== undefined && (LIVE as readonly string[]).includes(row.state);
    const alive = seen.status === 'pending' || seen.status === 'running';
    const stuck = (seen.awaitingCapacitySince?.getTime() ?? Number.POSITIVE_INFINITY) < placementDeadline;
    if (alive && live && stuck && row.state !== 'active') {
      if (await placeElsewhere(ctx, row, seen)) moved++;
    } else if (alive && !live) {
      ctx.logger.warn('orphaned replica stopped', {
        replicaId: seen.replicaId,
        providerRef: seen.providerRef,
      });
      await ctx.compute.stop(seen.providerRef);
      orphansStopped++;
    } else if (!alive && live && seen.status !== 'stopping') {
      if (await markReplicaEnded(ctx, row, seen.reason)) failed++;
    }
  }
  return { orphansStopped, failed, moved };
}

/**
 * A live replica whose process or task ended on its own: it is failed (its uptime ends now), its
 * token stops working, and the jobs it held are re-queued at once rather than when their leases
 * lapse. False when it was no longer live (already released or failed).
 */
async function markReplicaEnded(
  ctx: ServiceContext,
  row: typeof replicas.$inferSelect,
  reason: string | null,
): Promise<boolean> {
  const [ended] = await ctx.db
    .update(replicas)
    .set({ state: 'failed', failureReason: reason ?? 'the worker exited', releasedAt: ctx.clock.now() })
    .where(and(eq(replicas.id, row.id), inArray(replicas.state, [...LIVE])))
    .returning({ id: replicas.id });
  if (!ended) return false;
  await forgetWorker(ctx, row.workerTokenHash);
  await createJobQueue(ctx.redis).forgetReplica(row.endpointId, row.id);
  await recordReplicaEvents(ctx.db, [
    {
      orgId: row.orgId,
      endpointId: row.endpointId,
      replicaId: row.id,
      state: 'failed',
      detail: `the worker ended: ${reason ?? 'no reason given'}`,
    },
  ]);
  return true;
}

/**
 * The provider reports that a replica's process, task or instance ended (a crash, a kill, a spot
 * interruption), naming it by replica id or by the provider's reference: it is marked failed and its
 * endpoint reconciled at once, so a replacement starts within seconds instead of at the next minute's
 * provider check. A report for a replica that is not live (one the
 * orchestrator stopped, or reported twice) changes nothing. Answers the endpoint's plan, if any.
 */
export async function replicaEnded(
  ctx: ServiceContext,
  replica: { replicaId: string; providerRef?: string | undefined } | { providerRef: string },
  reason: string | null,
): Promise<{ endpointId: string; plan: ScalingPlan | null } | null> {
  const [row] = await ctx.db
    .select()
    .from(replicas)
    .where(
      'replicaId' in replica
        ? eq(replicas.id, replica.replicaId)
        : and(eq(replicas.provider, ctx.compute.name), eq(replicas.providerRef, replica.providerRef)),
    );
  // Not live: one the orchestrator released (its own stop reported back) or failed already. Nothing to
  // do, and no reason to list the provider's every task for it.
  if (!row?.providerRef || !(LIVE as readonly string[]).includes(row.state)) return null;
  // A task the replica has left (moved to another GPU type): its stop says nothing of the replica.
  if (replica.providerRef !== undefined && replica.providerRef !== row.providerRef) return null;
  // The report is checked against the provider itself: a stale or replayed report about a replica
  // that is in fact running must not fail it.
  const seen = (await ctx.compute.list()).find((replica) => replica.providerRef === row.providerRef);
  if (seen && (seen.status === 'pending' || seen.status === 'running' || seen.status === 'stopping'))
    return null;
  await markReplicaEnded(ctx, row, seen?.reason ?? reason);
  return { endpointId: row.endpointId, plan: await reconcileEndpoint(ctx, row.endpointId) };
}

/**
 * Every endpoint that may need a change: live ones, and deleted or stopped ones that still run
 * replicas. The minute schedule calls this; a scale-up nudge reconciles just its endpoint.
 */
export async function reconcileAll(ctx: ServiceContext) {
  // The provider's view first, so dead replicas are replaced in this same pass.
  await reconcileProvider(ctx).catch((error: unknown) =>
    ctx.logger.error('provider reconcile failed', { cause: String(error) }),
  );
  // Releases that failed or were cut short are tried again, so no replica stays half-released.
  await retryReleases(ctx).catch((error: unknown) =>
    ctx.logger.error('release retry failed', { cause: String(error) }),
  );
  // Starts cut short before the provider answered are failed, so their endpoints start others now.
  await failInterruptedStarts(ctx).catch((error: unknown) =>
    ctx.logger.error('interrupted start sweep failed', { cause: String(error) }),
  );
  // Replica uptime becomes ledger debits, minute by minute.
  await meterReplicas(ctx).catch((error: unknown) =>
    ctx.logger.error('metering failed', { cause: String(error) }),
  );
  // Orgs under their auto-refill threshold with no usage to trigger it (scaled to zero at $0, or
  // a refill that waited out the hourly limit) are charged here.
  await refillDueOrgs(ctx).catch((error: unknown) =>
    ctx.logger.error('auto-refill sweep failed', { cause: String(error) }),
  );
  // Async jobs whose deadline passed are ended and announced, even if nobody polls them.
  await sweepOverdueJobs(ctx).catch((error: unknown) =>
    ctx.logger.error('overdue job sweep failed', { cause: String(error) }),
  );
  // Async jobs that ended but whose recorder failed are recorded and announced.
  await settleUnsettledJobs(ctx).catch((error: unknown) =>
    ctx.logger.error('unsettled job sweep failed', { cause: String(error) }),
  );
  // Webhooks whose hand-off to QStash failed when their job ended are handed over now.
  await publishUnsentDeliveries(ctx).catch((error: unknown) =>
    ctx.logger.error('unsent webhook sweep failed', { cause: String(error) }),
  );
  // Which jobs' key spend was counted matters only while their finish can be retried: a job lives in
  // the queue at most its one-hour deadline plus an hour, so a day is ample.
  await pruneKeySpends(ctx.db, new Date(ctx.clock.now().getTime() - 86_400_000)).catch((error: unknown) =>
    ctx.logger.error('key spend prune failed', { cause: String(error) }),
  );
  const rows = await ctx.db
    .selectDistinct({ id: endpoints.id })
    .from(endpoints)
    .leftJoin(replicas, and(eq(replicas.endpointId, endpoints.id), inArray(replicas.state, [...LIVE])))
    .where(
      or(and(isNull(endpoints.deletedAt), eq(endpoints.state, 'active')), sql`${replicas.id} is not null`),
    );
  const plans = [];
  for (const { id } of rows) {
    try {
      plans.push({ endpointId: id, plan: await reconcileEndpoint(ctx, id) });
    } catch (error) {
      // One endpoint's trouble (a provider error) must not stop the others.
      ctx.logger.error('reconcile failed', { endpointId: id, cause: String(error) });
    }
  }
  return plans;
}

/**
 * Replicas left `release_failed`, or `releasing` for over two minutes (a reconcile cut short). How long
 * a replica has been releasing is read from its `releasing` event: the row's `updated_at` moves with
 * every metering and heartbeat, and a replica metered each minute would never look stuck (billed on).
 */
export async function retryReleases(ctx: ServiceContext) {
  const cutoff = new Date(ctx.clock.now().getTime() - 120_000);
  const recentlyMarked = ctx.db
    .select({ id: replicaEvents.id })
    .from(replicaEvents)
    .where(
      and(
        eq(replicaEvents.replicaId, replicas.id),
        eq(replicaEvents.state, 'releasing'),
        gt(replicaEvents.createdAt, cutoff),
      ),
    );
  const stuck = await ctx.db
    .select()
    .from(replicas)
    .where(
      or(
        eq(replicas.state, 'release_failed'),
        and(eq(replicas.state, 'releasing'), notExists(recentlyMarked)),
      ),
    )
    .limit(100);
  for (const replica of stuck) await releaseReplica(ctx, replica, 'retried');
}

/** Longer than any start takes to be answered: every GPU type tried, each with its SDK's retries. */
export const START_ANSWER_TIMEOUT_MS = 5 * 60_000;

/**
 * Replicas still `requested`, with no provider reference, well after they were asked for: the
 * reconcile that asked was cut short (an eviction, a timeout) between recording the row and the
 * provider's answer. Counted as starting, each would hold its endpoint's scale-up for the startup
 * timeout (20 minutes of requests answered with errors); failed, its endpoint starts another at once.
 * A task the provider did start for it is an orphan now, stopped by the provider check.
 */
export async function failInterruptedStarts(ctx: ServiceContext) {
  const cutoff = new Date(ctx.clock.now().getTime() - START_ANSWER_TIMEOUT_MS);
  const failed = await ctx.db
    .update(replicas)
    .set({ state: 'failed', failureReason: 'its start was interrupted before the provider answered' })
    .where(
      and(eq(replicas.state, 'requested'), isNull(replicas.providerRef), lt(replicas.requestedAt, cutoff)),
    )
    .returning();
  await recordReplicaEvents(
    ctx.db,
    failed.map((row) => ({
      orgId: row.orgId,
      endpointId: row.endpointId,
      replicaId: row.id,
      state: 'failed' as const,
      detail: row.failureReason,
    })),
  );
  return failed.length;
}
