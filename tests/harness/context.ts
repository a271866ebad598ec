import type { ServiceContext } from '../../functions/context.ts';
import { parseEdgeConfig } from '../../functions/env.ts';
import { createStripe } from '../../functions/lib/billing/stripe.ts';
import { createLogger } from '../../functions/lib/logger.ts';
import { createResendMailer } from '../../functions/lib/mail.ts';
import { createRedis } from '../../functions/lib/redis.ts';
import type { testDatabase } from './db.ts';
import { env } from './edge.ts';

/**
 * The services a background job (the minute reconcile's meter) runs with, against the test cloud:
 * its database, the local Stripe and the mail outbox. `settle()` waits for mail sent after the fact.
 */
export function testContext(db: ReturnType<typeof testDatabase>['db'], clock: ServiceContext['clock']) {
  const config = parseEdgeConfig(env);
  const deferred: Promise<unknown>[] = [];
  const ctx = {
    config,
    db,
    clock,
    stripe: createStripe(config),
    redis: createRedis({ url: config.UPSTASH_REDIS_REST_URL, token: config.UPSTASH_REDIS_REST_TOKEN }),
    mailer: createResendMailer({
      apiUrl: config.RESEND_API_URL,
      apiKey: config.RESEND_API_KEY,
      from: config.EMAIL_FROM,
    }),
    logger: createLogger('error'),
    defer: (task: Promise<unknown>) => {
      deferred.push(task);
    },
  } as unknown as ServiceContext;
  return { ctx, settle: () => Promise.all(deferred.splice(0)) };
}
