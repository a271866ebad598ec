import { and, eq, isNull } from 'drizzle-orm';
import { apiKeys, orgs } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import type { Caller } from '../actor.ts';
import { presentedSecretHash } from '../auth/secrets.ts';
import { UnauthorizedError } from '../errors.ts';
import { IsolateMemo } from '../isolate-memo.ts';
import type { Role } from '../orgs/roles.ts';
import { KEY_CACHE_TTL_SECONDS, keyCacheKey, MISSING_KEY } from './cache.ts';
import { parseApiKey } from './format.ts';

/** `last_used_at` is written at most this often per key, keeping the hot path free of writes. */
const LAST_USED_RESOLUTION_SECONDS = 60;
/** Keys this isolate already marked used within the resolution: their shared mark is not re-checked. */
const usesMarked = new IsolateMemo<true>(LAST_USED_RESOLUTION_SECONDS * 1000);

interface CachedKey {
  keyId: string;
  orgId: string;
  kind: 'account' | 'deployment';
  role: Role | null;
  endpointId: string | null;
  createdByUserId: string | null;
  rateLimitPerMinute: number | null;
  expiresAt: string | null;
  capped: boolean;
}

export interface ResolvedKey {
  caller: Caller;
  rateLimitPerMinute: number | null;
}

async function load(ctx: ServiceContext, hash: string): Promise<CachedKey | null> {
  const [row] = await ctx.db
    .select({ key: apiKeys })
    .from(apiKeys)
    .innerJoin(orgs, and(eq(orgs.id, apiKeys.orgId), isNull(orgs.deletedAt)))
    .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)));
  if (!row) return null;
  const { key } = row;
  return {
    keyId: key.id,
    orgId: key.orgId,
    kind: key.kind,
    role: key.role,
    endpointId: key.endpointId,
    createdByUserId: key.createdByUserId,
    rateLimitPerMinute: key.rateLimitPerMinute,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    capped: key.spendCapDailyMicroUsd !== null || key.spendCapMonthlyMicroUsd !== null,
  };
}

/** Writes a key's fresh cache entry unless a revocation's tombstone is there (it must stay). */
const REFRESH_UNLESS_REVOKED = `
if redis.call('GET', KEYS[1]) == ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1`;

/**
 * Replaces a live key's cache entry with what the database holds now (after its caps changed, which
 * decide what it may do). A write, not a deletion: a lookup that read the key just before the change
 * committed only ever adds an entry where there is none, so it cannot put the old one back; and a
 * revocation that committed after this read keeps its tombstone.
 */
export async function refreshCachedKey(ctx: ServiceContext, hash: string): Promise<void> {
  const key = await load(ctx, hash);
  await ctx.redis.eval(
    REFRESH_UNLESS_REVOKED,
    [keyCacheKey(hash)],
    [JSON.stringify(key ?? MISSING_KEY), JSON.stringify(MISSING_KEY), String(KEY_CACHE_TTL_SECONDS)],
  );
}

/** Turns a presented `sk_…` secret into its caller, or a 401 that does not say which check failed. */
export async function resolveApiKey(ctx: ServiceContext, secret: string): Promise<ResolvedKey> {
  // A mistyped or truncated key fails its checksum here, before any lookup.
  if (!parseApiKey(secret)) throw new UnauthorizedError('Invalid API key.');
  const hash = await presentedSecretHash(secret, ctx.clock.now().getTime());
  const cacheKey = keyCacheKey(hash);
  const cached = await ctx.redis.get<CachedKey | { missing: true }>(cacheKey);
  let key: CachedKey | null;
  if (cached) {
    key = 'missing' in cached ? null : cached;
  } else {
    key = await load(ctx, hash);
    // Only where nothing is cached: a revocation's tombstone written meanwhile wins over this read.
    await ctx.redis.set(cacheKey, key ?? MISSING_KEY, { ex: KEY_CACHE_TTL_SECONDS, nx: true });
  }
  const now = ctx.clock.now();
  if (!key || (key.expiresAt && new Date(key.expiresAt) <= now))
    throw new UnauthorizedError('Invalid API key.');

  // "Last used" is bookkeeping, written after the answer: the request does not wait for it.
  const keyId = key.keyId;
  if (usesMarked.firstInWindow(keyId, now.getTime()))
    ctx.defer(
      (async () => {
        const firstUseThisMinute = await ctx.redis.set(`apikey:used:${keyId}`, 1, {
          nx: true,
          ex: LAST_USED_RESOLUTION_SECONDS,
        });
        if (firstUseThisMinute)
          await ctx.db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, keyId));
      })(),
    );

  const actor: Caller['actor'] =
    key.kind === 'deployment'
      ? { type: 'api_key', keyId: key.keyId, kind: 'deployment', endpointId: key.endpointId ?? '' }
      : {
          type: 'api_key',
          keyId: key.keyId,
          kind: 'account',
          role: key.role ?? 'viewer',
          createdByUserId: key.createdByUserId,
          capped: key.capped,
        };
  return { caller: { orgId: key.orgId, actor }, rateLimitPerMinute: key.rateLimitPerMinute };
}
