import type { Caller, RequestOrigin } from './core/actor.ts';
import type { Clock } from './core/clock.ts';
import type { ComputeProvider } from './core/compute.ts';
import type { Logger } from './core/logger.ts';
import type { Mailer } from './core/mail/mailer.ts';
import type { PayloadStore } from './core/payloads/store.ts';
import type { EdgeConfig } from './env.ts';
import type { StripeClient } from './lib/billing/stripe.ts';
import type { Database, PreparedReads } from './lib/db.ts';
import type { Queue } from './lib/qstash.ts';
import type { Redis } from './lib/redis.ts';

/**
 * Everything a handler or domain operation may touch, built once per request by the `init` middleware.
 * `caller` is set by the `authenticate` middleware on routes that need a credential.
 */
export interface ServiceContext {
  config: EdgeConfig;
  db: Database;
  /** The request path's hottest reads, prepared once per isolate (see `preparedReads`). */
  prepared: PreparedReads;
  redis: Redis;
  queue: Queue;
  compute: ComputeProvider;
  mailer: Mailer;
  /** The Stripe SDK (api.stripe.com, or the local Stripe in development and tests). */
  stripe: StripeClient;
  /** Audio uploads and generated files (the PAYLOADS R2 bucket). */
  payloads: PayloadStore;
  clock: Clock;
  logger: Logger;
  requestId: string;
  origin: RequestOrigin;
  caller: Caller | null;
  /**
   * Runs `task` after the response is sent (Workers' waitUntil): work whose duration must not show in
   * the response time, such as mail that would tell a stranger an address has an account.
   */
  defer(task: Promise<unknown>): void;
}

/** Static web assets (wrangler's `[assets]` binding); absent in route tests. */
export interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

export type AppEnv = {
  Bindings: { ASSETS?: AssetsBinding } & Record<string, unknown>;
  Variables: { services: ServiceContext; requestId: string };
};
