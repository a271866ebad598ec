import { and, eq, inArray, isNull } from 'drizzle-orm';
import { endpoints, replicas } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { sha256Hex } from '../auth/secrets.ts';
import { UnauthorizedError } from '../errors.ts';
import { recordReplicaEvents } from '../replicas/events.ts';

/** A worker agent, as its per-replica token identifies it: it may only touch its endpoint's jobs. */
export interface WorkerIdentity {
  replicaId: string;
  endpointId: string;
  orgId: string;
  concurrency: number;
}

const CACHE_TTL_SECONDS = 30;
/** `last_heartbeat_at` is written at most this often; the orchestrator's liveness check allows for it. */
const HEARTBEAT_RESOLUTION_SECONDS = 10;
const LIVE_STATES = ['requested', 'provisioning', 'active'] as const;

const cacheKey = (hash: string) => `worker:v1:${hash}`;

/**
 * Resolves a worker token (cached briefly), and records the contact: the first one makes the replica
 * `active` (billing starts there), later ones keep its heartbeat fresh.
 */
export async function resolveWorker(ctx: ServiceContext, token: string): Promise<WorkerIdentity> {
  if (!/^wt_[A-Za-z0-9_-]{20,128}$/.test(token)) throw new UnauthorizedError('Invalid worker token.');
  const hash = await sha256Hex(token);
  let identity = await ctx.redis.get<WorkerIdentity>(cacheKey(hash));
  if (!identity) {
    const [row] = await ctx.db
      .select({
        replicaId: replicas.id,
        endpointId: replicas.endpointId,
        orgId: replicas.orgId,
        concurrency: endpoints.concurrencyPerReplica,
      })
      .from(replicas)
      .innerJoin(endpoints, and(eq(endpoints.id, replicas.endpointId), isNull(endpoints.deletedAt)))
      .where(and(eq(replicas.workerTokenHash, hash), inArray(replicas.state, [...LIVE_STATES])));
    if (!row) throw new UnauthorizedError('Invalid worker token.');
    identity = row;
    await ctx.redis.set(cacheKey(hash), identity, { ex: CACHE_TTL_SECONDS });
  }
  const now = ctx.clock.now();
  const fresh = await ctx.redis.set(`worker:beat:${identity.replicaId}`, 1, {
    nx: true,
    ex: HEARTBEAT_RESOLUTION_SECONDS,
  });
  if (fresh) {
    await ctx.db.update(replicas).set({ lastHeartbeatAt: now }).where(eq(replicas.id, identity.replicaId));
    const [activated] = await ctx.db
      .update(replicas)
      .set({ state: 'active', activeAt: now })
      .where(and(eq(replicas.id, identity.replicaId), inArray(replicas.state, ['requested', 'provisioning'])))
      .returning({ requestedAt: replicas.requestedAt });
    if (activated) {
      const coldStart = ((now.getTime() - activated.requestedAt.getTime()) / 1000).toFixed(1);
      await recordReplicaEvents(ctx.db, [
        {
          orgId: identity.orgId,
          endpointId: identity.endpointId,
          replicaId: identity.replicaId,
          state: 'active',
          detail: `worker ready ${coldStart} s after the request`,
        },
      ]);
    }
  }
  return identity;
}

/** A released replica's token stops working at once, not when its cache entry lapses. */
export async function forgetWorker(ctx: ServiceContext, workerTokenHash: string): Promise<void> {
  await ctx.redis.del(cacheKey(workerTokenHash));
}
