import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { ServiceContext } from '../../context.ts';
import { createRouter } from '../../lib/openapi.ts';

const PROBE_TIMEOUT_MS = 2_000;

const CheckSchema = z
  .object({
    status: z.enum(['up', 'down']),
    latency_ms: z.number().openapi({ example: 3 }),
    error: z.string().optional().openapi({ example: 'timed out after 2000 ms' }),
  })
  .openapi('DependencyCheck');

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    /** Dependencies that are down; empty when healthy. */
    down: z.array(z.enum(['db', 'redis', 'qstash'])),
    checks: z.object({ db: CheckSchema, redis: CheckSchema, qstash: CheckSchema }),
    time: z.string().openapi({ example: '2026-11-23T10:00:00.000Z' }),
  })
  .openapi('Health');

type Check = z.infer<typeof CheckSchema>;

async function probe(clock: ServiceContext['clock'], run: () => Promise<unknown>): Promise<Check> {
  const started = clock.now().getTime();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  try {
    await Promise.race([run(), timeout]);
    return { status: 'up', latency_ms: clock.now().getTime() - started };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    return { status: 'down', latency_ms: clock.now().getTime() - started, error: message.slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

const route = createRoute({
  method: 'get',
  path: '/',
  tags: ['Platform'],
  summary: 'Health of the edge and its dependencies',
  description: 'Probes Postgres, Redis and QStash in parallel. 503 when any is down, naming which.',
  responses: {
    200: {
      description: 'All dependencies are up',
      content: { 'application/json': { schema: HealthSchema } },
    },
    503: { description: 'A dependency is down', content: { 'application/json': { schema: HealthSchema } } },
  },
});

export const health = createRouter().openapi(route, async (c) => {
  const { db, redis, queue, clock } = c.get('services');
  const [dbCheck, redisCheck, qstashCheck] = await Promise.all([
    probe(clock, () => db.execute(sql`select 1`)),
    probe(clock, () => redis.ping()),
    probe(clock, () => queue.ping()),
  ]);
  const checks = { db: dbCheck, redis: redisCheck, qstash: qstashCheck };
  const down = (['db', 'redis', 'qstash'] as const).filter((name) => checks[name].status === 'down');
  const body = {
    status: down.length ? 'unavailable' : 'ok',
    down,
    checks,
    time: clock.now().toISOString(),
  } as const;
  c.header('cache-control', 'no-store');
  return down.length ? c.json(body, 503) : c.json(body, 200);
});
