import { Ratelimit } from '@upstash/ratelimit';
import { RateLimitedError } from '../core/errors.ts';
import type { Redis } from './redis.ts';

export interface RateLimitOutcome {
  limit: number;
  remaining: number;
  /** Epoch milliseconds when the window frees up again. */
  reset: number;
}

export interface RateLimiter {
  /** Counts one request for `identifier`; throws RateLimitedError (429) past the limit. */
  consume(identifier: string, now: Date): Promise<RateLimitOutcome>;
}

/**
 * Sliding-window limits kept in Redis with @upstash/ratelimit, so every edge location shares one count.
 * `name` separates the counters of different policies (per key, per login email, per IP).
 */
export function createRateLimiter(
  redis: Redis,
  name: string,
  limit: number,
  windowSeconds: number,
): RateLimiter {
  const ratelimit = new Ratelimit({
    redis,
    prefix: `ratelimit:${name}`,
    limiter: Ratelimit.slidingWindow(limit, `${windowSeconds} s`),
    analytics: false,
    // No in-isolate cache: a blocked caller is re-checked against Redis, never remembered wrongly.
    ephemeralCache: false,
  });
  return {
    async consume(identifier, now) {
      const result = await ratelimit.limit(identifier);
      const outcome = { limit: result.limit, remaining: Math.max(0, result.remaining), reset: result.reset };
      if (!result.success) {
        const retryAfter = Math.max(1, Math.ceil((result.reset - now.getTime()) / 1000));
        throw new RateLimitedError(retryAfter, undefined, outcome);
      }
      return outcome;
    },
  };
}

/** OpenAI's rate-limit headers: `x-ratelimit-reset-requests` is a duration such as `1m30s` or `12s`. */
export function rateLimitHeaders(outcome: RateLimitOutcome, now: Date): Record<string, string> {
  const seconds = Math.max(0, Math.ceil((outcome.reset - now.getTime()) / 1000));
  const minutes = Math.floor(seconds / 60);
  const reset = minutes > 0 ? `${minutes}m${seconds % 60}s` : `${seconds}s`;
  return {
    'x-ratelimit-limit-requests': String(outcome.limit),
    'x-ratelimit-remaining-requests': String(outcome.remaining),
    'x-ratelimit-reset-requests': reset,
  };
}
