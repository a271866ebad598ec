import { and, asc, eq, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { endpoints, replicas } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { endpointSubject } from '../../core/billing/caps.ts';
import { orgTransfer, PLATFORM_ACCOUNTS, postTransaction } from '../../core/billing/ledger.ts';
import { minimumTopUp, minuteCharges } from '../../core/billing/metering.ts';
import { createJobQueue } from '../queue/index.ts';
import { afterUsage } from './after-usage.ts';
import { addSpend } from './spend.ts';

const MINUTE_MS = 60_000;

/**
 * Turns replica uptime into ledger debits, one per replica per complete minute (and a session's
 * 60-second minimum once it is released). Run by the minute reconcile; every charge is keyed by
 * (replica, minute), so a late, repeated or concurrent run charges nothing twice.
 */
export async function meterReplicas(ctx: ServiceContext, limit = 500): Promise<number> {
  const nowMs = ctx.clock.now().getTime();
  const due = await ctx.db
    .select({ replica: replicas, endpointName: endpoints.name })
    .from(replicas)
    .innerJoin(endpoints, eq(endpoints.id, replicas.endpointId))
    .where(
      and(
        isNotNull(replicas.activeAt),
        or(
          isNull(replicas.billedThrough),
          // Released and not charged to its end, or running with a complete minute uncharged.
          and(isNotNull(replicas.releasedAt), lt(replicas.billedThrough, replicas.releasedAt)),
          and(isNull(replicas.releasedAt), lt(replicas.billedThrough, new Date(nowMs - MINUTE_MS))),
        ),
      ),
    )
    // The longest uncharged first: past `limit` due replicas, each run takes the ones left longest, so
    // none waits forever behind replicas that come due again every minute.
    .orderBy(asc(sql`coalesce(${replicas.billedThrough}, ${replicas.activeAt})`))
    .limit(limit);
  let charged = 0;
  const debited = new Set<string>();
  const busySeconds = await busyTimeOf(
    ctx,
    due.map(({ replica }) => replica),
  );
  for (const { replica, endpointName } of due) {
    const posted = await meterReplica(ctx, replica, endpointName, nowMs, busySeconds[replica.id]);
    if (posted > 0) debited.add(replica.orgId);
    charged += posted;
  }
  await afterUsage(ctx, debited);
  return charged;
}

/**
 * The replicas' busy time (GPU time of the jobs they finished), kept in Redis as jobs finish so that
 * completing a job writes no Postgres row; it is copied to the replica's row when it is metered.
 */
async function busyTimeOf(ctx: ServiceContext, due: (typeof replicas.$inferSelect)[]) {
  const byEndpoint = new Map<string, string[]>();
  for (const replica of due)
    byEndpoint.set(replica.endpointId, [...(byEndpoint.get(replica.endpointId) ?? []), replica.id]);
  const queue = createJobQueue(ctx.redis);
  const found = await Promise.all(
    [...byEndpoint].map(([endpointId, replicaIds]) => queue.busySeconds(endpointId, replicaIds)),
  );
  return Object.assign({}, ...found) as Record<string, number>;
}

async function meterReplica(
  ctx: ServiceContext,
  replica: typeof replicas.$inferSelect,
  endpointName: string,
  nowMs: number,
  busySeconds: number | undefined,
) {
  const session = {
    activeAtMs: replica.activeAt?.getTime() ?? nowMs,
    releasedAtMs: replica.releasedAt?.getTime() ?? null,
    pricePerHourMicroUsd: replica.pricePerHourMicroUsd,
  };
  const from = replica.billedThrough?.getTime() ?? 0;
  const minutes = minuteCharges(session, nowMs).filter(
    (charge) => charge.minuteMs + MINUTE_MS > from && charge.amountMicroUsd > 0,
  );
  const topUp = minimumTopUp(session);
  const debit = (amount: number, key: string, description: string) => ({
    kind: 'usage' as const,
    idempotencyKey: key,
    description,
    reference: replica.id,
    lines: orgTransfer(replica.orgId, PLATFORM_ACCOUNTS.revenue, -amount),
  });
  const through =
    session.releasedAtMs ?? (minutes.length > 0 ? (minutes.at(-1)?.minuteMs ?? 0) + MINUTE_MS : from);
  // Never lowered: a busy-time entry that expired from Redis keeps the last value written.
  const busy = busySeconds ? { busySeconds: sql`greatest(${replicas.busySeconds}, ${busySeconds})` } : null;
  if (minutes.length === 0 && topUp === 0 && through <= from) {
    // Nothing to charge yet (no complete minute): the busy time is still brought up to date.
    if (busy) await ctx.db.update(replicas).set(busy).where(eq(replicas.id, replica.id));
    return 0;
  }
  let posted = 0;
  await ctx.db.transaction(async (tx) => {
    for (const minute of minutes) {
      const at = new Date(minute.minuteMs).toISOString().slice(0, 16);
      const result = await postTransaction(
        tx,
        debit(
          minute.amountMicroUsd,
          `usage:${replica.id}:${at}`,
          `${endpointName}: GPU time ${at}Z (${minute.seconds.toFixed(1)} s)`,
        ),
      );
      if (!result.duplicate) {
        posted++;
        await addSpend(
          tx,
          endpointSubject(replica.endpointId),
          new Date(minute.minuteMs),
          minute.amountMicroUsd,
        );
      }
    }
    if (topUp > 0) {
      const result = await postTransaction(
        tx,
        debit(topUp, `usage:${replica.id}:minimum`, `${endpointName}: 1-minute minimum per replica session`),
      );
      if (!result.duplicate) {
        posted++;
        await addSpend(
          tx,
          endpointSubject(replica.endpointId),
          new Date(session.releasedAtMs ?? nowMs),
          topUp,
        );
      }
    }
    await tx
      .update(replicas)
      .set({ billedThrough: new Date(through), ...busy })
      .where(eq(replicas.id, replica.id));
  });
  return posted;
}
