import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@upstash/qstash';
import { migrateAndSeed } from '../db/migrate.ts';
import { workerEnvironment } from '../functions/core/compute.ts';
import { HANDLED_STRIPE_EVENTS } from '../functions/lib/billing/stripe-events.ts';
import { RECONCILE_PATH } from '../functions/lib/orchestrator/nudge.ts';
import { startLocalCompute } from './compute/server.ts';
import { startMailOutbox } from './mail/server.ts';
import { startNeonProxy } from './neon-proxy/server.ts';
import { assertPortFree } from './ports.ts';
import { startPostgres } from './postgres/index.ts';
import { startQStash } from './qstash/server.ts';
import { selectRedisBackend } from './redis-rest/select.ts';
import { startRedisRest } from './redis-rest/server.ts';
import { generateSecrets, loadOrCreateSecrets } from './secrets.ts';
import { startLocalStripe } from './stripe/server.ts';

export interface LocalCloudOptions {
  /** Persist Postgres, Redis, QStash and secrets here; null keeps everything ephemeral (tests). */
  dataDir: string | null;
  /** Where the edge will listen: QStash delivers to it and workers poll it. */
  edgeUrl: string;
  databaseUrl?: string | undefined;
  redisUrl?: string | undefined;
  /** 0 picks a free port. */
  ports: {
    postgres: number;
    neonProxy: number;
    redisRest: number;
    qstash: number;
    compute: number;
    mail: number;
    stripe: number;
    redis: number;
  };
  /**
   * Real Stripe (test-mode keys; events forwarded with `stripe listen`) instead of the local Stripe.
   * Without it the local Stripe serves the API and the checkout page and signs its own events.
   */
  stripe?: { secretKey: string; webhookSecret: string } | undefined;
  /** Whether the local Stripe delivers its events to the edge (false when no edge listens at edgeUrl). */
  deliverStripeEvents?: boolean;
  allowMemoryRedis?: boolean;
  /** An OpenAI-compatible model server (Ollama, llama.cpp, vLLM) for local workers; else the dev engine. */
  engineUrl?: string | undefined;
  onWorkerOutput?: (replicaId: string, line: string) => void;
}

export interface LocalCloud {
  /** The vars the edge needs to use this cloud (wrangler `--var`s, or route tests' env). */
  edgeEnv: Record<string, string>;
  /** Where the emails sent through this cloud can be read (`GET /outbox?to=`). */
  mailOutboxUrl: string;
  /** The local Stripe (null when real Stripe keys were given). */
  stripeUrl: string | null;
  services: { name: string; url: string; detail: string }[];
  stop(): Promise<void>;
}

const AGENT_ENTRY = fileURLToPath(new URL('../gpu-workers/agent/main.ts', import.meta.url));

/**
 * Brings up everything the edge depends on, on loopback: Postgres behind a Neon-compatible proxy, Redis
 * behind an Upstash-compatible REST endpoint, a QStash stand-in and the local compute daemon.
 * Migrations and the catalog seed are applied before it returns.
 */
export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const named: [number, string, string][] = [
    [options.ports.neonProxy, 'Neon proxy', 'NEON_PROXY_PORT'],
    [options.ports.redisRest, 'Redis REST', 'REDIS_REST_PORT'],
    [options.ports.qstash, 'QStash', 'QSTASH_PORT'],
    [options.ports.compute, 'local compute', 'COMPUTE_PORT'],
    [options.ports.mail, 'mail outbox', 'MAIL_PORT'],
  ];
  if (!options.stripe) named.push([options.ports.stripe, 'local Stripe', 'STRIPE_PORT']);
  if (!options.databaseUrl) named.push([options.ports.postgres, 'embedded Postgres', 'POSTGRES_PORT']);
  for (const [port, name, variable] of named) if (port !== 0) await assertPortFree(port, name, variable);

  const secrets = options.dataDir
    ? loadOrCreateSecrets(join(options.dataDir, 'secrets.json'))
    : generateSecrets();
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const close of stops.reverse()) await close().catch(() => {});
  };
  try {
    let postgresDir = options.dataDir;
    if (!postgresDir && !options.databaseUrl) {
      // Ephemeral cloud: the embedded server still needs a folder, removed again on stop.
      const scratch = mkdtempSync(join(tmpdir(), 'aicloud-pg-'));
      stops.push(async () => rmSync(scratch, { recursive: true, force: true }));
      postgresDir = scratch;
    }
    const postgres = await startPostgres({
      databaseUrl: options.databaseUrl,
      dataDir: postgresDir ?? '',
      port: options.ports.postgres,
    });
    stops.push(postgres.stop);
    await migrateAndSeed(postgres.url);
    const neonProxy = await startNeonProxy({
      target: { host: postgres.host, port: postgres.port },
      port: options.ports.neonProxy,
    });
    stops.push(neonProxy.close);

    const redis = await selectRedisBackend({
      redisUrl: options.redisUrl,
      dataDir: options.dataDir ? join(options.dataDir, 'redis') : null,
      port: options.ports.redis,
      allowMemory: options.allowMemoryRedis ?? true,
    });
    stops.push(redis.stop);
    const redisRest = await startRedisRest({
      backend: redis.backend,
      token: secrets.redisToken,
      port: options.ports.redisRest,
    });
    stops.push(redisRest.close);

    const qstash = await startQStash({
      port: options.ports.qstash,
      token: secrets.qstashToken,
      currentSigningKey: secrets.qstashCurrentSigningKey,
      nextSigningKey: secrets.qstashNextSigningKey,
      ...(options.dataDir ? { dataFile: join(options.dataDir, 'qstash.json') } : {}),
    });
    stops.push(qstash.close);
    const qstashClient = new Client({ baseUrl: qstash.url, token: secrets.qstashToken });

    const compute = await startLocalCompute({
      port: options.ports.compute,
      token: secrets.computeToken,
      launch: (spec) => ({
        command: process.execPath,
        args: [AGENT_ENTRY],
        env: {
          ...workerEnvironment(spec),
          // Locally, without a model server (ENGINE_URL), workers run the labelled development engine.
          ...(options.engineUrl ? { ENGINE_URL: options.engineUrl } : { DEV_ENGINE: 'true' }),
        },
      }),
      ...(options.onWorkerOutput ? { onOutput: options.onWorkerOutput } : {}),
      // As AWS routes ECS task state changes (EventBridge → QStash) to the orchestrator.
      onEnded: (replicaId, reason) => {
        void qstashClient
          .publishJSON({
            url: new URL(RECONCILE_PATH, options.edgeUrl).toString(),
            body: { replica_ended: { replica_id: replicaId, reason } },
            deduplicationId: `replica-ended-${replicaId}`,
            retries: 3,
          })
          .catch((error: unknown) =>
            console.warn(`replica ${replicaId} ended, not reported: ${(error as Error).message}`),
          );
      },
    });
    stops.push(compute.close);

    const mail = await startMailOutbox({
      port: options.ports.mail,
      apiKey: secrets.mailApiKey,
      ...(options.dataDir ? { dataFile: join(options.dataDir, 'mail.json') } : {}),
    });
    stops.push(mail.close);

    const stripe = options.stripe
      ? null
      : await startLocalStripe({
          port: options.ports.stripe,
          secretKey: secrets.stripeSecretKey,
          webhook:
            options.deliverStripeEvents === false
              ? null
              : {
                  url: new URL('/api/stripe/webhook', options.edgeUrl).toString(),
                  secret: secrets.stripeWebhookSecret,
                  enabledEvents: HANDLED_STRIPE_EVENTS,
                },
          ...(options.dataDir ? { dataFile: join(options.dataDir, 'stripe.json') } : {}),
          log: (line) => console.warn(line),
        });
    if (stripe) stops.push(stripe.close);

    return {
      edgeEnv: {
        ENVIRONMENT: 'development',
        PUBLIC_URL: options.edgeUrl,
        DATABASE_URL: postgres.url,
        NEON_PROXY_URL: neonProxy.url,
        UPSTASH_REDIS_REST_URL: redisRest.url,
        UPSTASH_REDIS_REST_TOKEN: secrets.redisToken,
        QSTASH_URL: qstash.url,
        QSTASH_TOKEN: secrets.qstashToken,
        QSTASH_CURRENT_SIGNING_KEY: secrets.qstashCurrentSigningKey,
        QSTASH_NEXT_SIGNING_KEY: secrets.qstashNextSigningKey,
        COMPUTE_PROVIDER: 'local',
        LOCAL_COMPUTE_URL: compute.url,
        LOCAL_COMPUTE_TOKEN: secrets.computeToken,
        AUTH_SECRET: secrets.authSecret,
        RESEND_API_URL: mail.url,
        RESEND_API_KEY: secrets.mailApiKey,
        EMAIL_FROM: 'AI Cloud <no-reply@aicloud.localhost>',
        STRIPE_SECRET_KEY: options.stripe?.secretKey ?? secrets.stripeSecretKey,
        STRIPE_WEBHOOK_SECRET: options.stripe?.webhookSecret ?? secrets.stripeWebhookSecret,
        ...(stripe ? { STRIPE_API_URL: stripe.url } : {}),
      },
      mailOutboxUrl: mail.url,
      stripeUrl: stripe?.url ?? null,
      services: [
        { name: 'Postgres', url: postgres.url.replace(/:[^:@/]+@/, ':***@'), detail: postgres.source },
        { name: 'Neon proxy', url: neonProxy.url, detail: 'WebSocket /v2 and HTTP /sql' },
        { name: 'Redis REST', url: redisRest.url, detail: redis.description },
        { name: 'QStash', url: qstash.url, detail: 'publish, retries, schedules, signed deliveries' },
        { name: 'Compute', url: compute.url, detail: 'local provider (worker processes)' },
        { name: 'Mail outbox', url: mail.url, detail: 'every email sent locally; JSON at /outbox' },
        stripe
          ? { name: 'Stripe', url: stripe.url, detail: 'local Stripe: API, checkout page, signed webhooks' }
          : { name: 'Stripe', url: 'https://api.stripe.com', detail: 'real Stripe (STRIPE_SECRET_KEY)' },
      ],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
