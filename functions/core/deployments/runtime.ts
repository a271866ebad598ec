import { and, count, desc, eq, isNotNull, sql } from 'drizzle-orm';
import { replicas } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { createJobQueue } from '../../lib/queue/index.ts';

export type DeploymentStatus = 'scaled_to_zero' | 'starting' | 'running' | 'stopped';

export interface DeploymentRuntime {
  status: DeploymentStatus;
  replicas: { active: number; starting: number };
  queue: { queued: number; running: number };
  /** Median time from a replica's request to its worker's first poll, over its last ten; null before any. */
  cold_start_estimate_seconds: number | null;
}

/** Where a deployment stands right now, as its page and a waiting job's view show it. */
export function summarizeRuntime(input: {
  state: 'active' | 'stopped';
  active: number;
  starting: number;
  queue: { queued: number; running: number };
  coldStarts: number[];
}): DeploymentRuntime {
  const sorted = [...input.coldStarts].sort((a, b) => a - b);
  const median = sorted.length === 0 ? null : (sorted[Math.floor((sorted.length - 1) / 2)] ?? null);
  const status: DeploymentStatus =
    input.state === 'stopped'
      ? 'stopped'
      : input.active > 0
        ? 'running'
        : input.starting > 0
          ? 'starting'
          : 'scaled_to_zero';
  return {
    status,
    replicas: { active: input.active, starting: input.starting },
    queue: input.queue,
    cold_start_estimate_seconds: median === null ? null : Math.round(median * 10) / 10,
  };
}

export async function deploymentRuntime(
  ctx: ServiceContext,
  endpoint: { id: string; state: 'active' | 'stopped' },
): Promise<DeploymentRuntime> {
  const [byState, recent, queue] = await Promise.all([
    ctx.db
      .select({ state: replicas.state, n: count() })
      .from(replicas)
      .where(eq(replicas.endpointId, endpoint.id))
      .groupBy(replicas.state),
    ctx.db
      .select({
        seconds: sql<number>`extract(epoch from ${replicas.activeAt} - ${replicas.requestedAt})::float8`,
      })
      .from(replicas)
      .where(and(eq(replicas.endpointId, endpoint.id), isNotNull(replicas.activeAt)))
      .orderBy(desc(replicas.requestedAt))
      .limit(10),
    createJobQueue(ctx.redis).depth(endpoint.id),
  ]);
  const counted = (states: string[]) =>
    byState.filter((row) => states.includes(row.state)).reduce((sum, row) => sum + Number(row.n), 0);
  return summarizeRuntime({
    state: endpoint.state,
    active: counted(['active']),
    starting: counted(['requested', 'provisioning']),
    queue,
    coldStarts: recent.map((row) => Number(row.seconds)),
  });
}
