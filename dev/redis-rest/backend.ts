/** A Redis reply error (`ERR …`, `WRONGTYPE …`): the command was wrong, Redis itself is fine. */
export class RedisReplyError extends Error {
  override name = 'RedisReplyError';
}

/** Redis is unreachable: the REST endpoint answers 503 so clients treat it as an outage. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export type Reply = null | number | Buffer | string | Reply[];
export type CommandOutcome = { result: Reply } | { error: string };

/** Commands that wait for data; a real Redis runs each on a connection of its own. */
export const BLOCKING_COMMANDS = new Set([
  'blpop',
  'brpop',
  'blmove',
  'brpoplpush',
  'blmpop',
  'bzpopmin',
  'bzpopmax',
  'bzmpop',
]);

export function isBlocking(args: readonly string[]): boolean {
  const name = args[0]?.toLowerCase() ?? '';
  if (BLOCKING_COMMANDS.has(name)) return true;
  return (name === 'xread' || name === 'xreadgroup') && args.some((arg) => arg.toUpperCase() === 'BLOCK');
}

export interface RedisBackend {
  readonly kind: 'redis' | 'memory';
  /** Runs one command; throws RedisReplyError or RedisUnavailableError. */
  command(args: string[]): Promise<Reply>;
  /** MULTI … EXEC: all or nothing, each command's outcome in order. */
  transaction(commands: string[][]): Promise<CommandOutcome[]>;
  close(): Promise<void>;
}

/**
 * Client libraries reshape some replies (ioredis and ioredis-mock turn HGETALL into an object); Redis,
 * and so Upstash, answer with a flat field/value list. This puts replies back into Redis's shape.
 */
export function toReply(value: unknown): Reply {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' || typeof value === 'string' || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(toReply);
  if (typeof value === 'object')
    return Object.entries(value).flatMap(([field, item]) => [field, toReply(item)]);
  return String(value);
}
