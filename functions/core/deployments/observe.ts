import { and, count, eq, gt, isNotNull, isNull, or } from 'drizzle-orm';
import { replicas } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { readWorkerLogs } from '../../lib/logs.ts';
import { readMetrics } from '../../lib/metrics.ts';
import { createJobQueue } from '../../lib/queue/index.ts';
import { authorize } from '../orgs/authorize.ts';
import { listReplicaEvents } from '../replicas/events.ts';
import { findDeployment } from './manage.ts';
import { uptimeByMinute } from './uptime.ts';

async function ownDeployment(ctx: ServiceContext, id: string) {
  return (await followedDeployment(ctx, id)).id;
}

/** Requests, latency percentiles, queue depth, replicas by state and GPU time over a window. */
export async function deploymentMetrics({
  ctx,
  id,
  windowMinutes,
}: {
  ctx: ServiceContext;
  id: string;
  windowMinutes: number;
}) {
  const endpointId = await ownDeployment(ctx, id);
  const nowMs = ctx.clock.now().getTime();
  const windowStart = new Date(Math.floor(nowMs / 60_000) * 60_000 - (windowMinutes - 1) * 60_000);
  const [traffic, queue, replicaRows, sessions] = await Promise.all([
    readMetrics(ctx.redis, endpointId, windowMinutes, nowMs),
    createJobQueue(ctx.redis).depth(endpointId),
    ctx.db
      .select({ state: replicas.state, replicas: count() })
      .from(replicas)
      .where(eq(replicas.endpointId, endpointId))
      .groupBy(replicas.state),
    ctx.db
      .select({ activeAt: replicas.activeAt, releasedAt: replicas.releasedAt })
      .from(replicas)
      .where(
        and(
          eq(replicas.endpointId, endpointId),
          isNotNull(replicas.activeAt),
          or(isNull(replicas.releasedAt), gt(replicas.releasedAt, windowStart)),
        ),
      ),
  ]);
  const uptime = uptimeByMinute(
    sessions.map((row) => ({
      activeAtMs: row.activeAt?.getTime() ?? nowMs,
      releasedAtMs: row.releasedAt?.getTime() ?? null,
    })),
    traffic.per_minute.map((minute) => Date.parse(minute.minute)),
    traffic.per_minute.map((minute) => minute.gpu_seconds),
    nowMs,
  );
  const replicaSeconds = uptime.reduce((total, minute) => total + minute.replicaSeconds, 0);
  return {
    object: 'deployment_metrics' as const,
    deployment_id: endpointId,
    ...traffic,
    per_minute: traffic.per_minute.map((minute, index) => ({
      ...minute,
      replica_seconds: uptime[index]?.replicaSeconds ?? 0,
      utilisation: uptime[index]?.utilisation ?? null,
    })),
    uptime_seconds: replicaSeconds,
    utilisation: replicaSeconds > 0 ? Math.min(1, traffic.gpu_seconds / replicaSeconds) : null,
    queue,
    replicas: Object.fromEntries(replicaRows.map((row) => [row.state, row.replicas])),
  };
}

/** The newest lines its workers logged, oldest first; pass the last id back as `after` to tail. */
export async function deploymentLogs({
  ctx,
  id,
  limit,
  after,
}: {
  ctx: ServiceContext;
  id: string;
  limit: number;
  after?: string | undefined;
}) {
  const endpointId = await ownDeployment(ctx, id);
  return { object: 'list' as const, data: await readWorkerLogs(ctx.redis, endpointId, limit, after) };
}

/** Its replicas' lifecycle, newest first (`requested` … `active` … `released`, `failed`). */
export async function deploymentEvents({
  ctx,
  id,
  limit,
  before,
}: {
  ctx: ServiceContext;
  id: string;
  limit: number;
  before?: string | undefined;
}) {
  const endpointId = await ownDeployment(ctx, id);
  const data = await listReplicaEvents(ctx, endpointId, { limit, before });
  return { object: 'list' as const, data, has_more: data.length === limit };
}

/** One of the caller's deployments, readable by its role (what a status stream follows). */
export async function followedDeployment(ctx: ServiceContext, id: string) {
  const { caller } = authorize(ctx.caller, 'endpoint.read');
  return (await findDeployment(ctx.db, caller.orgId, id)).endpoint;
}
