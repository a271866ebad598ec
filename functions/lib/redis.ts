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

const rawTwins = new WeakMap<Redis, () => Redis>();

/**
 * The real @upstash/redis REST client. Retries are kept short: a request must fail fast with a 503
 * when Redis is down rather than hang in backoff. Auto-pipelining is off: it sends batches one after
 * another, so a command issued while a blocking read (the relay's XREAD BLOCK) is in flight would wait
 * for it; explicit `pipeline()` calls batch where batching is meant. Replies come as plain JSON strings,
 * not base64 (the default from @upstash/redis 1.40): everything stored is UTF-8 text, and decoding
 * base64 cost the edge CPU on every string of every reply.
 */
export function createRedis(settings: RedisSettings): Redis {
  const redis = connect(settings, true);
  let raw: Redis | undefined;
  rawTwins.set(redis, () => {
    raw ??= connect(settings, false);
    return raw;
  });
  return redis;
}

/**
 * The same database through a client that leaves replies as Redis sent them: the default client
 * tries JSON.parse on every string of every reply (an exception for each one that is not JSON), which
 * costs the edge more CPU than anything else it does with a reply. For code that parses what it reads
 * itself, such as the queue's scripts and stream reads. (Typed commands that reshape their reply,
 * HMGET or HGETALL, reshape it only on the default client.)
 */
export function withRawReplies(redis: Redis): Redis {
  const twin = rawTwins.get(redis);
  if (!twin) throw new Error('withRawReplies needs a client made by createRedis');
  return twin();
}

function connect(settings: RedisSettings, parseReplies: boolean): Redis {
  const redis = new Redis({
    url: settings.url,
    token: settings.token,
    retry: { retries: 1, backoff: () => 50 },
    enableTelemetry: false,
    enableAutoPipelining: false,
    responseEncoding: false,
    automaticDeserialization: parseReplies,
  });
  return guardDependency('redis', redis, isCommandError);
}

export type { Redis };
