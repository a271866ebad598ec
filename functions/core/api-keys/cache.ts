import type { ServiceContext } from '../../context.ts';

/**
 * How long a resolved key (or a miss) is remembered in Redis. Revoking deletes the entry at once; this
 * bounds staleness if that delete is lost. Documented: revocation takes effect within 30 seconds.
 */
export const KEY_CACHE_TTL_SECONDS = 30;

export const keyCacheKey = (hash: string) => `apikey:v1:${hash}`;

/** Forgets cached resolutions of revoked keys so they stop working now, not at cache expiry. */
export async function dropCachedKeys(ctx: ServiceContext, hashes: string[]): Promise<void> {
  if (hashes.length > 0) await ctx.redis.del(...hashes.map(keyCacheKey));
}
