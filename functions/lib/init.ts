import type { MiddlewareHandler } from 'hono';
import type { AppEnv, ServiceContext } from '../context.ts';
import { systemClock } from '../core/clock.ts';
import { type EdgeConfig, edgeConfigFor } from '../env.ts';
import { createStripe } from './billing/stripe.ts';
import { createComputeProvider } from './compute/index.ts';
import { configureNeonDriver, createDatabase, preparedReads } from './db.ts';
import { createLogger } from './logger.ts';
import { createResendMailer } from './mail.ts';
import { createPayloadStore } from './payloads/r2.ts';
import { createQueue, type Queue } from './qstash.ts';
import { createRedis, type Redis } from './redis.ts';

let driverConfiguredFor: string | undefined;

/** Built on first use: a request that never touches a service does not pay for its client. */
function lazy<T>(make: () => T): { get: () => T; made: () => boolean } {
  let value: { made: T } | undefined;
  return {
    get: () => {
      value ??= { made: make() };
      return value.made;
    },
    made: () => value !== undefined,
  };
}

/**
 * The Redis and QStash clients keep no per-request state (each call is one fetch), so one per
 * isolate and address serves every request, and Lua scripts are hashed once, not per request.
 */
const redisClients = new Map<string, Redis>();
const queueClients = new Map<string, Queue>();

function redisFor(config: EdgeConfig): Redis {
  const key = `${config.UPSTASH_REDIS_REST_URL}\n${config.UPSTASH_REDIS_REST_TOKEN}`;
  let client = redisClients.get(key);
  if (!client) {
    client = createRedis({ url: config.UPSTASH_REDIS_REST_URL, token: config.UPSTASH_REDIS_REST_TOKEN });
    redisClients.set(key, client);
  }
  return client;
}

function queueFor(config: EdgeConfig): Queue {
  const key = [
    config.QSTASH_URL,
    config.QSTASH_TOKEN,
    config.QSTASH_CURRENT_SIGNING_KEY,
    config.QSTASH_NEXT_SIGNING_KEY,
  ].join('\n');
  let client = queueClients.get(key);
  if (!client) {
    client = createQueue({
      url: config.QSTASH_URL,
      token: config.QSTASH_TOKEN,
      currentSigningKey: config.QSTASH_CURRENT_SIGNING_KEY,
      nextSigningKey: config.QSTASH_NEXT_SIGNING_KEY,
    });
    queueClients.set(key, client);
  }
  return client;
}

/** Builds the request's ServiceContext from the zod-checked env: the only place bindings are created. */
export function init(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const config = edgeConfigFor(c.env);
    const driverKey = config.NEON_PROXY_URL ?? 'neon';
    if (driverConfiguredFor !== driverKey) {
      configureNeonDriver({ proxyUrl: config.NEON_PROXY_URL });
      driverConfiguredFor = driverKey;
    }
    const requestId = c.get('requestId');
    // A Pool per request, as Workers require (its WebSockets belong to the request).
    const database = lazy(() => createDatabase(config.DATABASE_URL));
    const compute = lazy(() => createComputeProvider(config));
    const mailer = lazy(() =>
      createResendMailer({
        apiUrl: config.RESEND_API_URL,
        apiKey: config.RESEND_API_KEY,
        from: config.EMAIL_FROM,
      }),
    );
    const payloads = lazy(() => createPayloadStore(c.env.PAYLOADS));
    const deferred: Promise<unknown>[] = [];
    const services: ServiceContext = {
      config,
      get db() {
        return database.get().db;
      },
      get prepared() {
        return preparedReads(config.DATABASE_URL);
      },
      redis: redisFor(config),
      get queue() {
        return queueFor(config);
      },
      get compute() {
        return compute.get();
      },
      get mailer() {
        return mailer.get();
      },
      get stripe() {
        return createStripe(config);
      },
      get payloads() {
        return payloads.get();
      },
      clock: systemClock,
      logger: createLogger(config.LOG_LEVEL, { requestId }),
      requestId,
      // Cloudflare sets cf-connecting-ip itself; a client cannot forge it past the edge.
      origin: { ip: c.req.header('cf-connecting-ip') ?? null, userAgent: c.req.header('user-agent') ?? null },
      caller: null,
      defer: (task) => {
        deferred.push(task.catch(() => {}));
      },
    };
    c.set('services', services);
    try {
      await next();
    } finally {
      // Deferred work runs first (it may itself defer more, and may use the database: a worker's
      // heartbeat, an async job's record), then the pool closes: a closed pool refuses new queries.
      const after = (async () => {
        while (deferred.length > 0) await Promise.all(deferred.splice(0));
        if (database.made())
          await database
            .get()
            .close()
            .catch(() => {});
      })();
      try {
        c.executionCtx.waitUntil(after);
      } catch {
        // No execution context outside workerd (route tests): finish before returning.
        await after;
      }
    }
  };
}

/**
 * The request's services with some replaced. Spreading would build every lazily made client; this
 * copies their getters instead, so they stay lazy and shared with the original.
 */
export function withServices(services: ServiceContext, replaced: Partial<ServiceContext>): ServiceContext {
  return Object.defineProperties(
    {},
    { ...Object.getOwnPropertyDescriptors(services), ...Object.getOwnPropertyDescriptors(replaced) },
  ) as ServiceContext;
}

/**
 * Services for work that outlives the request's handler (an SSE stream): the request's database
 * connection is closed when the handler returns, so the stream gets its own, made only if used and
 * closed by `close()` when the stream ends.
 */
export function servicesForStream(services: ServiceContext) {
  const database = lazy(() => createDatabase(services.config.DATABASE_URL));
  const ctx = Object.defineProperty(withServices(services, {}), 'db', { get: () => database.get().db });
  const close = async () => {
    if (database.made())
      await database
        .get()
        .close()
        .catch(() => {});
  };
  return { ctx, close };
}
