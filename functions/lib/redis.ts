import { Redis } from '@upstash/redis/cloudflare';
import { guardDependency } from './guard.ts';

/** Redis answered with an error about the command itself (a bug to fix, not an outage). */
const REDIS_REPLY_ERROR =
  /^(Command failed: )?(ERR|WRONGTYPE|NOSCRIPT|BUSYGROUP|NOGROUP|EXECABORT|BUSYKEY|NOPERM)\b/;

function isCommandError(error: unknown): boolean {
  return error instanceof Error && error.name === 'UpstashError' && REDIS_REPLY_ERROR.test(error.message);
}

export interface RedisSettings {
  url: string;
  token: string;
}

/**
 * The real @upstash/redis REST client. Retries are kept short: a request must fail fast with a 503
 * when Redis is down rather than hang in backoff. Auto-pipelining is off: it sends batches one after
 * another, so a command issued while a blocking read (the relay's XREAD BLOCK) is in flight would wait
 * for it; explicit `pipeline()` calls batch where batching is meant. Replies come as plain JSON strings,
 * not base64 (the default from @upstash/redis 1.40): everything stored is UTF-8 text, and decoding
 * base64 cost the edge CPU on every string of every reply.
 */
export function createRedis(settings: RedisSettings): Redis {
  const redis = new Redis({
    url: settings.url,
    token: settings.token,
    retry: { retries: 1, backoff: () => 50 },
    enableTelemetry: false,
    enableAutoPipelining: false,
    responseEncoding: false,
  });
  return guardDependency('redis', redis, isCommandError);
}

export type { Redis };
