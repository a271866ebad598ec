import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';
import { systemClock } from '../core/clock.ts';
import { edgeConfigFor } from '../env.ts';
import { createStripe } from './billing/stripe.ts';
import { createComputeProvider } from './compute/index.ts';
import { configureNeonDriver, createDatabase } from './db.ts';
import { createLogger } from './logger.ts';
import { createResendMailer } from './mail.ts';
import { createPayloadStore } from './payloads/r2.ts';
import { createQueue } from './qstash.ts';
import { createRedis } from './redis.ts';

let driverConfiguredFor: string | undefined;

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
    const database = createDatabase(config.DATABASE_URL);
    const deferred: Promise<unknown>[] = [];
    c.set('services', {
      config,
      db: database.db,
      redis: createRedis({ url: config.UPSTASH_REDIS_REST_URL, token: config.UPSTASH_REDIS_REST_TOKEN }),
      queue: createQueue({
        url: config.QSTASH_URL,
        token: config.QSTASH_TOKEN,
        currentSigningKey: config.QSTASH_CURRENT_SIGNING_KEY,
        nextSigningKey: config.QSTASH_NEXT_SIGNING_KEY,
      }),
      compute: createComputeProvider(config),
      mailer: createResendMailer({
        apiUrl: config.RESEND_API_URL,
        apiKey: config.RESEND_API_KEY,
        from: config.EMAIL_FROM,
      }),
      stripe: createStripe(config),
      payloads: createPayloadStore(c.env.PAYLOADS),
      clock: systemClock,
      logger: createLogger(config.LOG_LEVEL, { requestId }),
      requestId,
      // Cloudflare sets cf-connecting-ip itself; a client cannot forge it past the edge.
      origin: { ip: c.req.header('cf-connecting-ip') ?? null, userAgent: c.req.header('user-agent') ?? null },
      caller: null,
      defer: (task) => {
        deferred.push(task.catch(() => {}));
      },
    });
    try {
      await next();
    } finally {
      const after = Promise.all([database.close().catch(() => {}), ...deferred]);
      try {
        c.executionCtx.waitUntil(after);
      } catch {
        // No execution context outside workerd (route tests): finish before returning.
        await after;
      }
    }
  };
}
