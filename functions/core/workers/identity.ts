import { and, eq, inArray, isNull } from 'drizzle-orm';
import { endpoints, replicas } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { presentedSecretHash } from '../auth/secrets.ts';
import { UnauthorizedError } from '../errors.ts';
import { IsolateMemo } from '../isolate-memo.ts';
import { recordReplicaEvents } from '../replicas/events.ts';

/** A worker agent, as its per-replica token identifies it: it may only touch its endpoint's jobs. */
export interface WorkerIdentity {
  replicaId: string;
  endpointId: string;
  orgId: string;
  concurrency: number;
  tokenHash: string;
  /** The replica's price per hour, which its jobs are priced at (absent from identities cached before it was). */
  pricePerHourMicroUsd?: number;
}

const CACHE_TTL_SECONDS = 30;
/** `last_heartbeat_at` is written at most this often; the orchestrator's liveness check allows for it. */
const HEARTBEAT_RESOLUTION_SECONDS = 10;
const LIVE_STATES = ['requested', 'provisioning', 'active'] as const;

const cacheKey = (hash: string) => `worker:v2:${hash}`;
/** Set when a replica is released: outlives any cache entry read before the release. */
export const releasedWorkerKey = (hash: string) => `worker:released:${hash}`;
const RELEASED_TTL_SECONDS = 24 * 3600;

/**
 * A worker calls several times per job. Within one heartbeat resolution only its first call in this
 * isolate needs the shared (Redis) contact check; within 2 s, its identity and the released
 * tombstone as last read here stand (a release still stops its takes at once: the take script
 * checks the tombstone itself, and a finish needs the lease that the release ends).
 */
const contactsSeen = new IsolateMemo<true>(HEARTBEAT_RESOLUTION_SECONDS * 1000);
const identitiesSeen = new IsolateMemo<WorkerIdentity>(2_000);

/**
 * Resolves a worker token (cached briefly), and records the contact: the first one makes the replica
 * `active` (billing starts there), later ones keep its heartbeat fresh.
 */
export async function resolveWorker(ctx: ServiceContext, token: string): Promise<WorkerIdentity> {
  if (!/^wt_[A-Za-z0-9_-]{20,128}$/.test(token)) throw new UnauthorizedError('Invalid worker token.');
  const nowMs = ctx.clock.now().getTime();
  const hash = await presentedSecretHash(token, nowMs);
  const seen = identitiesSeen.get(hash, nowMs);
  if (seen) return seen;
  const [cached, released] = await ctx.redis.mget<[WorkerIdentity | null, number | null]>(
    cacheKey(hash),
    releasedWorkerKey(hash),
  );
  if (released) throw new UnauthorizedError('This replica has been released.');
  let identity = cached;
  if (!identity) {
    const [row] = await ctx.db
      .select({
        replicaId: replicas.id,
        endpointId: replicas.endpointId,
        orgId: replicas.orgId,
        concurrency: endpoints.concurrencyPerReplica,
        pricePerHourMicroUsd: replicas.pricePerHourMicroUsd,
      })
      .from(replicas)
      .innerJoin(endpoints, and(eq(endpoints.id, replicas.endpointId), isNull(endpoints.deletedAt)))
      .where(and(eq(replicas.workerTokenHash, hash), inArray(replicas.state, [...LIVE_STATES])));
    if (!row) throw new UnauthorizedError('Invalid worker token.');
    identity = { ...row, tokenHash: hash };
    await ctx.redis.set(cacheKey(hash), identity, { ex: CACHE_TTL_SECONDS });
  }
  identitiesSeen.set(hash, identity, nowMs);
  // The heartbeat (and the first contact's activation) is written beside the request, not before it.
  const identityNow = identity;
  const now = ctx.clock.now();
  if (!contactsSeen.firstInWindow(identity.replicaId, now.getTime())) return identity;
  ctx.defer(
    recordContact(ctx, identityNow, now).catch((error: unknown) => {
      // Not recorded: the next contact tries again (its activation must not wait out the window).
      contactsSeen.delete(identityNow.replicaId);
      ctx.logger.warn('worker contact not recorded', {
        replicaId: identityNow.replicaId,
        cause: String(error),
      });
    }),
  );
  return identity;
}

/**
 * Records a worker's contact, at most once per heartbeat resolution: the heartbeat, and on the first
 * contact the replica's activation (billing starts there) with its cold-start time.
 */
async function recordContact(ctx: ServiceContext, identity: WorkerIdentity, now: Date) {
  const beatKey = `worker:beat:${identity.replicaId}`;
  const fresh = await ctx.redis.set(beatKey, 1, {
    nx: true,
    ex: HEARTBEAT_RESOLUTION_SECONDS,
  });
  if (!fresh) return;
  try {
    await ctx.db.transaction(async (tx) => {
      await tx.update(replicas).set({ lastHeartbeatAt: now }).where(eq(replicas.id, identity.replicaId));
      const [activated] = await tx
        .update(replicas)
        .set({ state: 'active', activeAt: now })
        .where(
          and(eq(replicas.id, identity.replicaId), inArray(replicas.state, ['requested', 'provisioning'])),
        )
        .returning({ requestedAt: replicas.requestedAt });
      if (!activated) return;
      const coldStart = ((now.getTime() - activated.requestedAt.getTime()) / 1000).toFixed(1);
      await recordReplicaEvents(tx, [
        {
          orgId: identity.orgId,
          endpointId: identity.endpointId,
          replicaId: identity.replicaId,
          state: 'active',
          detail: `worker ready ${coldStart} s after the request`,
        },
      ]);
    });
  } catch (error) {
    // Not recorded (Postgres unreachable): the next contact tries again rather than a resolution later.
    await ctx.redis.del(beatKey).catch(() => undefined);
    throw error;
  }
}

/**
 * A released replica's token stops working at once: a tombstone, not a deletion, so an identity
 * read from the database just before the release cannot be cached back to life.
 */
export async function forgetWorker(ctx: ServiceContext, workerTokenHash: string): Promise<void> {
  await ctx.redis.set(releasedWorkerKey(workerTokenHash), 1, { ex: RELEASED_TTL_SECONDS });
  await ctx.redis.del(cacheKey(workerTokenHash));
}
