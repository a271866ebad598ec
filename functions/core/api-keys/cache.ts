import type { ServiceContext } from '../../context.ts';

/**
 * How long a resolved key (or a miss) is remembered in Redis. Revoking deletes the entry at once; this
 * bounds staleness if that delete is lost. Documented: revocation takes effect within 30 seconds.
 */
export const KEY_CACHE_TTL_SECONDS = 30;

export const keyCacheKey = (hash: string) => `apikey:v2:${hash}`;

/** What the cache holds for a key that does not resolve (unknown, or revoked). */
export const MISSING_KEY = { missing: true } as const;

/**
 * Revoked keys stop working now, not at cache expiry: their cache entries become "missing" for the
 * cache's lifetime. A tombstone rather than a deletion, because a lookup that read the key from the
 * database just before the revocation committed would otherwise cache it back to life; lookups only
 * ever add an entry where there is none.
 */
export async function cacheRevokedKeys(ctx: ServiceContext, hashes: string[]): Promise<void> {
  if (hashes.length === 0) return;
  const pipeline = ctx.redis.pipeline();
  for (const hash of hashes) pipeline.set(keyCacheKey(hash), MISSING_KEY, { ex: KEY_CACHE_TTL_SECONDS });
  await pipeline.exec();
}
