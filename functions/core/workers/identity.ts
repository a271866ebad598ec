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
  tokenHash: string;
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
 * When this isolate last recorded each replica's contact: a worker calls several times per job, and
 * within one heartbeat resolution only the first call needs the shared (Redis) check. Another isolate
 * keeps its own, so this only saves round trips; it never decides alone.
 */
const contactsSeen = new Map<string, number>();
const MAX_CONTACTS_SEEN = 10_000;

function contactDue(replicaId: string, nowMs: number): boolean {
  const last = contactsSeen.get(replicaId);
  if (last !== undefined && Math.abs(nowMs - last) < HEARTBEAT_RESOLUTION_SECONDS * 1000) return false;
  if (contactsSeen.size >= MAX_CONTACTS_SEEN) contactsSeen.clear();
  contactsSeen.set(replicaId, nowMs);
  return true;
}

/**
 * Resolves a worker token (cached briefly), and records the contact: the first one makes the replica
 * `active` (billing starts there), later ones keep its heartbeat fresh.
 */
export async function resolveWorker(ctx: ServiceContext, token: string): Promise<WorkerIdentity> {
  if (!/^wt_[A-Za-z0-9_-]{20,128}$/.test(token)) throw new UnauthorizedError('Invalid worker token.');
  const hash = await sha256Hex(token);
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
      })
      .from(replicas)
      .innerJoin(endpoints, and(eq(endpoints.id, replicas.endpointId), isNull(endpoints.deletedAt)))
      .where(and(eq(replicas.workerTokenHash, hash), inArray(replicas.state, [...LIVE_STATES])));
    if (!row) throw new UnauthorizedError('Invalid worker token.');
    identity = { ...row, tokenHash: hash };
    await ctx.redis.set(cacheKey(hash), identity, { ex: CACHE_TTL_SECONDS });
  }
  // The heartbeat (and the first contact's activation) is written beside the request, not before it.
  const identityNow = identity;
  const now = ctx.clock.now();
  if (!contactDue(identity.replicaId, now.getTime())) return identity;
  ctx.defer(
    recordContact(ctx, identityNow, now).catch((error: unknown) =>
      ctx.logger.warn('worker contact not recorded', {
        replicaId: identityNow.replicaId,
        cause: String(error),
      }),
    ),
  );
  return identity;
}

/**
 * Records a worker's contact, at most once per heartbeat resolution: the heartbeat, and on the first
 * contact the replica's activation (billing starts there) with its cold-start time.
 */
async function recordContact(ctx: ServiceContext, identity: WorkerIdentity, now: Date) {
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
}

/**
 * A released replica's token stops working at once: a tombstone, not a deletion, so an identity
 * read from the database just before the release cannot be cached back to life.
 */
export async function forgetWorker(ctx: ServiceContext, workerTokenHash: string): Promise<void> {
  await ctx.redis.set(releasedWorkerKey(workerTokenHash), 1, { ex: RELEASED_TTL_SECONDS });
  await ctx.redis.del(cacheKey(workerTokenHash));
}
