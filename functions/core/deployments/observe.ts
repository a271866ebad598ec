import { count, eq } from 'drizzle-orm';
import { replicas } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { readWorkerLogs } from '../../lib/logs.ts';
import { readMetrics } from '../../lib/metrics.ts';
import { createJobQueue } from '../../lib/queue/index.ts';
import { authorize } from '../orgs/authorize.ts';
import { listReplicaEvents } from '../replicas/events.ts';
import { findDeployment } from './manage.ts';

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
  const [traffic, queue, replicaRows] = await Promise.all([
    readMetrics(ctx.redis, endpointId, windowMinutes, ctx.clock.now().getTime()),
    createJobQueue(ctx.redis).depth(endpointId),
    ctx.db
      .select({ state: replicas.state, replicas: count() })
      .from(replicas)
      .where(eq(replicas.endpointId, endpointId))
      .groupBy(replicas.state),
  ]);
  return {
    object: 'deployment_metrics' as const,
    deployment_id: endpointId,
    ...traffic,
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
