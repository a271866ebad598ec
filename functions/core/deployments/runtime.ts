import { and, count, desc, eq, isNotNull, sql } from 'drizzle-orm';
import { replicas } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { spendOf } from '../../lib/billing/spend.ts';
import { failedStartsOf } from '../../lib/orchestrator/failed-starts.ts';
import { createJobQueue } from '../../lib/queue/index.ts';
import { microUsdToUsd } from '../billing/amounts.ts';
import { endpointSubject } from '../billing/caps.ts';
import { costMicroUsd } from '../billing/cost.ts';

/** `failing`: nothing running and its replicas failed to start twice or more in a row (backing off). */
export type DeploymentStatus = 'scaled_to_zero' | 'starting' | 'running' | 'failing' | 'stopped';

export interface DeploymentRuntime {
  status: DeploymentStatus;
  replicas: { active: number; starting: number };
  /** Replicas that failed to start in a row since one last ran (crash-loop backoff; 10 stop it). */
  failed_starts: number;
  queue: { queued: number; running: number };
  /** Median time from a replica's request to its worker's first poll, over its last ten; null before any. */
  cold_start_estimate_seconds: number | null;
  /**
   * What it costs: per hour now (its active replicas), and spent today, this month and in all,
   * including the running replicas' time not yet metered, so the figures tick live.
   */
  cost: { per_hour_usd: number; today_usd: number; month_usd: number; total_usd: number };
}

export interface RunningCost {
  perHourMicroUsd: number;
  /** Active replicas' time since their last metered minute. */
  unbilledMicroUsd: number;
  spent: { day: number; month: number; total: number };
}

/** Where a deployment stands right now, as its page and a waiting job's view show it. */
export function summarizeRuntime(input: {
  state: 'active' | 'stopped';
  active: number;
  starting: number;
  failedStarts: number;
  queue: { queued: number; running: number };
  coldStarts: number[];
  cost: RunningCost;
}): DeploymentRuntime {
  const sorted = [...input.coldStarts].sort((a, b) => a - b);
  const median = sorted.length === 0 ? null : (sorted[Math.floor((sorted.length - 1) / 2)] ?? null);
  const status: DeploymentStatus =
    input.state === 'stopped'
      ? 'stopped'
      : input.active > 0
        ? 'running'
        : input.failedStarts >= 2
          ? 'failing'
          : input.starting > 0
            ? 'starting'
            : 'scaled_to_zero';
  return {
    status,
    replicas: { active: input.active, starting: input.starting },
    failed_starts: input.failedStarts,
    queue: input.queue,
    cold_start_estimate_seconds: median === null ? null : Math.round(median * 10) / 10,
    cost: {
      per_hour_usd: microUsdToUsd(input.cost.perHourMicroUsd),
      today_usd: microUsdToUsd(input.cost.spent.day + input.cost.unbilledMicroUsd),
      month_usd: microUsdToUsd(input.cost.spent.month + input.cost.unbilledMicroUsd),
      total_usd: microUsdToUsd(input.cost.spent.total + input.cost.unbilledMicroUsd),
    },
  };
}

export async function deploymentRuntime(
  ctx: ServiceContext,
  endpoint: { id: string; state: 'active' | 'stopped' },
): Promise<DeploymentRuntime> {
  const now = ctx.clock.now();
  const [byState, recent, queue, running, spent, failedStarts] = await Promise.all([
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
    ctx.db
      .select({
        price: replicas.pricePerHourMicroUsd,
        since: sql<Date>`coalesce(${replicas.billedThrough}, ${replicas.activeAt})`,
      })
      .from(replicas)
      .where(and(eq(replicas.endpointId, endpoint.id), eq(replicas.state, 'active'))),
    spendOf(ctx.db, [endpointSubject(endpoint.id)], now),
    failedStartsOf(ctx.db, [endpoint.id]),
  ]);
  const unbilled = running.reduce(
    (sum, replica) =>
      sum +
      costMicroUsd(Math.max(0, (now.getTime() - new Date(replica.since).getTime()) / 1000), replica.price),
    0,
  );
  const counted = (states: string[]) =>
    byState.filter((row) => states.includes(row.state)).reduce((sum, row) => sum + Number(row.n), 0);
  return summarizeRuntime({
    state: endpoint.state,
    active: counted(['active']),
    starting: counted(['requested', 'provisioning']),
    failedStarts: failedStarts.get(endpoint.id)?.count ?? 0,
    queue,
    coldStarts: recent.map((row) => Number(row.seconds)),
    cost: {
      perHourMicroUsd: running.reduce((sum, replica) => sum + replica.price, 0),
      unbilledMicroUsd: unbilled,
      spent: spent.get(endpointSubject(endpoint.id)) ?? { day: 0, month: 0, total: 0 },
    },
  });
}
