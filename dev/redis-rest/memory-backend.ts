import { createHash } from 'node:crypto';
import RedisMock from 'ioredis-mock';
import { type CommandOutcome, type RedisBackend, RedisReplyError, type Reply, toReply } from './backend.ts';
import { createMemoryStreams } from './memory-streams.ts';

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const POLL_MS = 10;

/** The type a command's first key must hold (a real Redis refuses the others with WRONGTYPE). */
const KEY_TYPE: Record<string, string> = {};
const family = (type: string, names: string) => {
  for (const name of names.split(' ')) KEY_TYPE[name] = type;
};
family('string', 'get getdel getex getrange append incr incrby incrbyfloat decr decrby strlen setrange');
family(
  'list',
  'lpush rpush lpushx rpushx lpop rpop lrange llen lindex lset lrem ltrim linsert lmove lpos rpoplpush',
);
family(
  'hash',
  'hset hsetnx hget hmget hgetall hdel hlen hkeys hvals hexists hincrby hincrbyfloat hstrlen hscan',
);
family('set', 'sadd srem smembers sismember smismember scard spop srandmember sscan');
family(
  'zset',
  'zadd zrem zrange zrangebyscore zrevrange zrevrangebyscore zscore zmscore zcard zcount zincrby zrank zrevrank zpopmin zpopmax zremrangebyscore zremrangebyrank zscan',
);
// Streams are not type-checked: ioredis-mock reports a stream's TYPE as `list`, so the two cannot be told apart.

/**
 * Where each command's option keywords start. ioredis-mock only understands upper-case options
 * (`PX`, `LEFT`, `WITHSCORES`) while clients such as @upstash/redis send lower case; values before
 * that position are never touched.
 */
const OPTIONS_FROM: Record<string, number> = {
  set: 3,
  lmove: 3,
  blmove: 3,
  zrange: 4,
  zadd: 2,
  zrangebyscore: 4,
};
const OPTION_WORDS = new Set([
  'EX',
  'PX',
  'EXAT',
  'PXAT',
  'NX',
  'XX',
  'GT',
  'LT',
  'CH',
  'INCR',
  'KEEPTTL',
  'GET',
  'LEFT',
  'RIGHT',
  'WITHSCORES',
  'LIMIT',
  'BYSCORE',
  'BYLEX',
  'REV',
]);

function normaliseOptions(name: string, args: string[]): string[] {
  const from = OPTIONS_FROM[name];
  if (from === undefined) return args;
  return args.map((arg, index) =>
    index >= from - 1 && OPTION_WORDS.has(arg.toUpperCase()) ? arg.toUpperCase() : arg,
  );
}

const NUMERIC_REPLY = new Set(['incr', 'incrby', 'decr', 'decrby', 'hincrby']);

type MockFn = (...args: string[]) => Promise<unknown>;

/**
 * ioredis-mock reads a script's reply out of its Lua VM correctly only for tables built by a
 * constructor (`{a, b}`): a table grown by assignment or table.insert (how a script collects a list)
 * comes back as a proxy into a VM already closed, and the reply fails. So each script runs inside a
 * wrapper that rebuilds the arrays it returns with a constructor, taking what Redis itself takes from
 * a Lua table: the elements up to the first nil (status and error tables pass as they are).
 */
const runnableScript = (source: string) => `local function aicloud_reply(value)
  if type(value) ~= 'table' or value.err ~= nil or value.ok ~= nil then return value end
  local copy, n = {}, 0
  while value[n + 1] ~= nil do
    n = n + 1
    copy[n] = aicloud_reply(value[n])
  end
  return {unpack(copy, 1, n)}
end
local function aicloud_script()
${source}
end
return aicloud_reply(aicloud_script())`;

/** Serialises commands so a MULTI or a script is never interleaved with another client's command. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * The in-process stand-in used when no Redis server is available: ioredis-mock (with a Lua VM for
 * EVAL) adapted to answer like Redis does: type errors, script cache, blocking pops with timeouts.
 */
export function createMemoryBackend(): RedisBackend {
  const mock = new RedisMock();
  const scripts = new Map<string, string>();
  const mutex = new Mutex();
  const streams = createMemoryStreams(mock as never, POLL_MS);
  const locked = <T>(work: () => Promise<T>) => mutex.run(work);

  const fn = (name: string): MockFn => {
    const candidate = (mock as unknown as Record<string, unknown>)[name];
    if (typeof candidate !== 'function') {
      throw new RedisReplyError(`ERR unknown command '${name}', with args beginning with: `);
    }
    return (candidate as MockFn).bind(mock);
  };

  const immediate = async (args: string[]): Promise<Reply> => {
    const [rawName = '', ...given] = args;
    const name = rawName.toLowerCase();
    const rest = normaliseOptions(name, given);
    if (name === 'script') return script(rest);
    if (name === 'xadd') return streams.add(rest);
    if (name === 'xrange' || name === 'xrevrange') return streams.range(rest, name === 'xrevrange');
    // Already under the lock (run by `command` or in a transaction): it looks once.
    if (name === 'xread') return streams.read(rest, (work) => work(), false);
    if (name === 'evalsha' || name === 'evalsha_ro') {
      const source = scripts.get((rest[0] ?? '').toLowerCase());
      if (source === undefined) throw new RedisReplyError('NOSCRIPT No matching script. Please use EVAL.');
      return immediate(['eval', source, ...rest.slice(1)]);
    }
    if (name === 'eval' || name === 'eval_ro') {
      const source = rest[0] ?? '';
      scripts.set(sha1(source), source);
      rest[0] = runnableScript(source);
    }
    const expected = KEY_TYPE[name];
    if (expected && rest[0] !== undefined) {
      const actual = await mock.type(rest[0]);
      if (actual !== 'none' && actual !== expected) throw new RedisReplyError(WRONGTYPE);
    }
    let value: unknown;
    try {
      value = await fn(name === 'eval_ro' ? 'eval' : name)(...rest);
    } catch (error) {
      if (error instanceof RedisReplyError) throw error;
      throw new RedisReplyError(`ERR ${(error as Error).message}`);
    }
    if (NUMERIC_REPLY.has(name) && Number.isNaN(value)) {
      throw new RedisReplyError('ERR value is not an integer or out of range');
    }
    return toReply(value);
  };

  const script = (args: string[]): Reply => {
    const sub = (args[0] ?? '').toLowerCase();
    if (sub === 'load') {
      const source = args[1] ?? '';
      const hash = sha1(source);
      scripts.set(hash, source);
      return hash;
    }
    if (sub === 'exists') return args.slice(1).map((hash) => (scripts.has(hash.toLowerCase()) ? 1 : 0));
    if (sub === 'flush') {
      scripts.clear();
      return 'OK';
    }
    throw new RedisReplyError(`ERR unknown subcommand '${args[0] ?? ''}'.`);
  };

  /** The non-blocking form of a blocking command, or null when it has nothing to return yet. */
  const attemptBlocking = async (name: string, args: string[]): Promise<Reply> => {
    const keys = args.slice(0, -1);
    if (name === 'blpop' || name === 'brpop' || name === 'bzpopmin' || name === 'bzpopmax') {
      const pop = { blpop: 'lpop', brpop: 'rpop', bzpopmin: 'zpopmin', bzpopmax: 'zpopmax' }[name];
      for (const key of keys) {
        const value = await immediate([pop, key]);
        if (Array.isArray(value) ? value.length > 0 : value !== null) {
          return Array.isArray(value) ? [key, ...value] : [key, value];
        }
      }
      return null;
    }
    if (name === 'blmove') return immediate(['lmove', ...args.slice(0, 4)]);
    if (name === 'brpoplpush') return immediate(['lmove', args[0] ?? '', args[1] ?? '', 'RIGHT', 'LEFT']);
    throw new RedisReplyError(`ERR blocking command '${name}' is not supported by the in-memory stand-in`);
  };

  const blocking = async (name: string, args: string[]): Promise<Reply> => {
    const timeoutSeconds = Number(args.at(-1));
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) {
      throw new RedisReplyError('ERR timeout is not a float or out of range');
    }
    const deadline = timeoutSeconds === 0 ? Number.POSITIVE_INFINITY : Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const value = await mutex.run(() => attemptBlocking(name, args));
      if (value !== null) return value;
      if (Date.now() >= deadline) return null;
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, deadline - Date.now())));
    }
  };

  return {
    kind: 'memory',
    command(args) {
      const name = (args[0] ?? '').toLowerCase();
      if (['blpop', 'brpop', 'blmove', 'brpoplpush', 'bzpopmin', 'bzpopmax'].includes(name)) {
        return blocking(name, args.slice(1));
      }
      // A blocking XREAD takes the lock for each look, not while it waits.
      if (name === 'xread') return streams.read(args.slice(1), locked);
      return mutex.run(() => immediate(args));
    },
    transaction(commands) {
      return mutex.run(async () => {
        for (const [name = ''] of commands) {
          fn(name.toLowerCase() === 'script' ? 'eval' : name.toLowerCase());
        }
        const outcomes: CommandOutcome[] = [];
        for (const command of commands) {
          try {
            outcomes.push({ result: await immediate(command) });
          } catch (error) {
            outcomes.push({ error: (error as Error).message });
          }
        }
        return outcomes;
      });
    },
    async close() {
      mock.disconnect();
    },
  };
}

function sha1(source: string): string {
  return createHash('sha1').update(source).digest('hex');
}
