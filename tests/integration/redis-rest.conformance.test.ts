import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.ts';
import type { RedisBackend } from '../../dev/redis-rest/backend.ts';
import { createMemoryBackend } from '../../dev/redis-rest/memory-backend.ts';
import { selectRedisBackend } from '../../dev/redis-rest/select.ts';
import { type RedisRestServer, startRedisRest } from '../../dev/redis-rest/server.ts';

const TOKEN = 'conformance-token';

interface BackendUnderTest {
  name: string;
  start(): Promise<{ backend: RedisBackend; stop(): Promise<void> }>;
}

const backends: BackendUnderTest[] = [
  {
    name: 'real Redis',
    async start() {
      const selected = await selectRedisBackend({
        redisUrl: process.env.REDIS_URL,
        dataDir: null,
        port: await freePort(),
        // CI must exercise the real server; a developer machine without one still runs the stand-in suite.
        allowMemory: false,
      });
      return { backend: selected.backend, stop: selected.stop };
    },
  },
  {
    name: 'in-process stand-in',
    start: async () => ({ backend: createMemoryBackend(), stop: async () => {} }),
  },
];

describe.each(backends)('Upstash REST endpoint over $name', ({ start }) => {
  let server: RedisRestServer;
  let stopBackend: () => Promise<void>;
  let redis: Redis;
  const key = (name: string) => `conformance:${name}:${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    const started = await start();
    stopBackend = started.stop;
    server = await startRedisRest({ backend: started.backend, token: TOKEN, port: 0 });
    redis = new Redis({ url: server.url, token: TOKEN, enableTelemetry: false });
  });

  afterAll(async () => {
    await server?.close();
    await stopBackend?.();
  });

  it('rejects a wrong token with 401', async () => {
    const intruder = new Redis({ url: server.url, token: 'wrong', enableTelemetry: false, retry: false });
    await expect(intruder.ping()).rejects.toThrow(/Unauthorized/);
  });

  it('strings with expiry, JSON round trip, counters', async () => {
    const k = key('str');
    expect(await redis.set(k, { hello: 'wörld' }, { px: 200 })).toBe('OK');
    expect(await redis.get(k)).toEqual({ hello: 'wörld' });
    const ttl = await redis.pttl(k);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await redis.get(k)).toBeNull();
    const counter = key('n');
    expect(await redis.incr(counter)).toBe(1);
    expect(await redis.incrby(counter, 41)).toBe(42);
    expect(await redis.set(counter, 'x', { nx: true })).toBeNull();
  });

  it('reports command errors as errors, not outages', async () => {
    const k = key('wrongtype');
    await redis.hset(k, { field: 'v' });
    await expect(redis.incr(k)).rejects.toThrow(/WRONGTYPE/);
    const text = key('text');
    await redis.set(text, 'abc');
    await expect(redis.incr(text)).rejects.toThrow(/ERR value is not an integer/);
  });

  it('lists including LMOVE', async () => {
    const source = key('queue');
    const processing = key('processing');
    expect(await redis.rpush(source, 'a', 'b', 'c')).toBe(3);
    expect(await redis.lmove(source, processing, 'left', 'right')).toBe('a');
    expect(await redis.lrange(source, 0, -1)).toEqual(['b', 'c']);
    expect(await redis.lrange(processing, 0, -1)).toEqual(['a']);
    expect(await redis.lrem(processing, 1, 'a')).toBe(1);
    expect(await redis.llen(processing)).toBe(0);
  });

  it('blocking pops wait for data and time out with null', async () => {
    const k = key('blocking');
    const started = Date.now();
    expect(await redis.exec(['BLPOP', k, '0.3'])).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const waiting = redis.exec<[string, string] | null>(['BLMOVE', k, `${k}:to`, 'LEFT', 'RIGHT', '2']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await redis.rpush(k, 'job-1');
    expect(await waiting).toBe('job-1');
    expect(await redis.lrange(`${k}:to`, 0, -1)).toEqual(['job-1']);
  });

  it('hashes', async () => {
    const k = key('hash');
    expect(await redis.hset(k, { a: '1', b: 'two' })).toBe(2);
    expect(await redis.hgetall(k)).toEqual({ a: 1, b: 'two' });
    expect(await redis.hincrby(k, 'a', 5)).toBe(6);
    expect(await redis.hdel(k, 'b')).toBe(1);
    expect(await redis.hget(k, 'b')).toBeNull();
  });

  it('sorted sets', async () => {
    const k = key('zset');
    await redis.zadd(k, { score: 3, member: 'c' }, { score: 1, member: 'a' }, { score: 2, member: 'b' });
    expect(await redis.zrange(k, 0, -1)).toEqual(['a', 'b', 'c']);
    expect(await redis.zrange(k, 0, 1, { withScores: true })).toEqual(['a', 1, 'b', 2]);
    expect(await redis.zscore(k, 'b')).toBe(2);
    expect(await redis.zpopmin(k, 1)).toEqual(['a', 1]);
    expect(await redis.zcard(k)).toBe(2);
  });

  it('streams: XADD, XRANGE, XREAD with and without BLOCK', async () => {
    const k = key('stream');
    const first = await redis.xadd(k, '*', { delta: 'Hel' });
    await redis.xadd(k, '*', { delta: 'lo' });
    expect(first).toMatch(/^\d+-\d+$/);
    const range = await redis.xrange(k, '-', '+');
    expect(Object.values(range).map((entry) => entry.delta)).toEqual(['Hel', 'lo']);
    const read = (await redis.xread(k, '0-0')) as [string, [string, string[]][]][];
    expect(read[0]?.[1].map(([, fields]) => fields)).toEqual([
      ['delta', 'Hel'],
      ['delta', 'lo'],
    ]);
    const started = Date.now();
    expect(await redis.xread(k, '$', { blockMS: 300 })).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('streams: reads from an id return every later entry, to every reader; ids only grow', async () => {
    const k = key('relay');
    const ids = [];
    for (const delta of ['a', 'b', 'c']) ids.push(await redis.xadd(k, '*', { delta }));
    const deltas = (reply: unknown) =>
      (reply as [string, [string, string[]][]][])[0]?.[1].map(([, fields]) => fields[1]);
    // Entries after the first; a blocking read with entries waiting answers with all of them at once.
    expect(deltas(await redis.xread(k, ids[0] ?? ''))).toEqual(['b', 'c']);
    expect(deltas(await redis.xread(k, '0-0', { blockMS: 1_000 }))).toEqual(['a', 'b', 'c']);
    // A second reader sees the same entries: reading consumes nothing.
    expect(deltas(await redis.xread(k, '0-0'))).toEqual(['a', 'b', 'c']);
    expect(Object.values(await redis.xrange(k, `(${ids[0]}`, '+')).map((entry) => entry.delta)).toEqual([
      'b',
      'c',
    ]);
    const waiting = redis.xread(k, ids[2] ?? '', { blockMS: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await redis.xadd(k, '*', { delta: 'd' });
    expect(deltas(await waiting)).toEqual(['d']);

    // Trimmed to the newest two, the stream keeps handing out new, growing ids.
    const trimmed = key('trimmed');
    const trim = { trim: { type: 'MAXLEN' as const, threshold: 2, comparison: '=' as const } };
    for (const line of ['l1', 'l2', 'l3', 'l4']) await redis.xadd(trimmed, '*', { line }, trim);
    const kept = Object.entries(await redis.xrange(trimmed, '-', '+'));
    expect(kept.map(([, entry]) => entry.line)).toEqual(['l3', 'l4']);
    const [older, newer] = kept.map(([id]) => id.split('-').map(Number) as [number, number]);
    if (!older || !newer) throw new Error('two entries expected');
    expect(newer[0] > older[0] || (newer[0] === older[0] && newer[1] > older[1])).toBe(true);
  });

  it('Lua scripts answer with the lists they build', async () => {
    const script = `local found = {}
for i = 1, 3 do table.insert(found, 'item' .. i) end
local pairs = {}
pairs[1] = {'x', 1}
pairs[2] = {'y', 2}
table.insert(found, pairs)
return found`;
    expect(await redis.eval(script, [], [])).toEqual([
      'item1',
      'item2',
      'item3',
      [
        ['x', 1],
        ['y', 2],
      ],
    ]);
  });

  it('Lua EVAL and EVALSHA, including Upstash-only shebang flags', async () => {
    const k = key('lua');
    const script = '#!lua flags=allow-key-locking\nreturn redis.call("INCRBY", KEYS[1], ARGV[1])';
    expect(await redis.eval(script, [k], ['5'])).toBe(5);
    const sha = await redis.scriptLoad(script);
    expect(await redis.evalsha(sha, [k], ['2'])).toBe(7);
    expect(await redis.scriptExists(sha)).toEqual([1]);
    await expect(redis.evalsha('0'.repeat(40), [k], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it('pipelines run in order and report each outcome', async () => {
    const k = key('pipe');
    const results = await redis.pipeline().set(k, 1).incr(k).get(k).exec();
    expect(results).toEqual(['OK', 2, 2]);
  });

  it('transactions apply all commands atomically', async () => {
    const k = key('multi');
    const results = await redis.multi().incr(k).incr(k).expire(k, 60).exec();
    expect(results).toEqual([1, 2, 1]);
  });

  it('keeps binary-unsafe text intact through base64 encoding', async () => {
    const k = key('unicode');
    const value = 'emoji 🚀, quotes "", newline\n, NUL-free';
    await redis.set(k, value);
    expect(await redis.get(k)).toBe(value);
  });
});
