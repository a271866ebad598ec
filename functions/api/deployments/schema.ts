import { z } from '@hono/zod-openapi';
import { REPLICA_STATES } from '../../core/replicas/states.ts';
import { CreatedApiKeySchema } from '../api-keys/index.ts';
import { SpendCapSchema } from '../schemas.ts';

export const DeploymentSchema = z
  .object({
    id: z.string().openapi({ example: 'ep_2ZkQ8pV7nT4sW9xY3bC1dE' }),
    object: z.literal('deployment'),
    name: z.string(),
    model: z.string().nullable().openapi({ example: 'llama-3.1-8b-instruct' }),
    image: z.string().nullable(),
    engine: z.string(),
    gpu_types: z.array(z.string()),
    gpu_count: z.number(),
    min_replicas: z.number(),
    max_replicas: z.number(),
    idle_timeout_seconds: z.number(),
    concurrency_per_replica: z.number(),
    env_keys: z.array(z.string()),
    spend_cap: SpendCapSchema,
    state: z.enum(['active', 'stopped']),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Deployment');

export const CreatedDeploymentSchema = DeploymentSchema.extend({
  deployment_key: CreatedApiKeySchema.openapi({
    description: 'Its first deployment key (sk_dep_…), shown once',
  }),
}).openapi('CreatedDeployment');

export const IdParams = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'ep_2ZkQ8pV7nT4sW9xY3bC1dE' }),
});

const RuntimeSchema = z
  .object({
    status: z.enum(['scaled_to_zero', 'starting', 'running', 'failing', 'stopped']).openapi({
      description: '`failing`: nothing running and replicas failed to start twice or more in a row',
    }),
    replicas: z.object({ active: z.number(), starting: z.number() }),
    failed_starts: z.number().int().openapi({
      description:
        'Replicas that failed to start in a row since one last ran: each waits longer before the next start (15 s doubling to 10 min); 10 with none running stop the deployment',
    }),
    queue: z.object({ queued: z.number(), running: z.number() }),
    cold_start_estimate_seconds: z
      .number()
      .nullable()
      .openapi({ description: "Median time from a replica's request to its first poll (last ten)" }),
    cost: z
      .object({
        per_hour_usd: z.number(),
        today_usd: z.number(),
        month_usd: z.number(),
        total_usd: z.number(),
      })
      .openapi({ description: 'Including running replicas not yet metered, so the figures tick live' }),
  })
  .openapi('DeploymentRuntime');

export const DeploymentDetailSchema = DeploymentSchema.extend({ runtime: RuntimeSchema }).openapi(
  'DeploymentDetail',
);

const minuteSchema = z.object({
  minute: z.string(),
  requests: z.number(),
  failures: z.number(),
  gpu_seconds: z.number(),
  latency_p50_ms: z.number().nullable().openapi({ description: 'Null in a minute without requests' }),
  latency_p99_ms: z.number().nullable(),
  replica_seconds: z.number(),
  utilisation: z.number().nullable(),
});

export const MetricsSchema = z
  .object({
    object: z.literal('deployment_metrics'),
    deployment_id: z.string(),
    window_minutes: z.number(),
    requests: z.number(),
    failures: z.number(),
    gpu_seconds: z.number(),
    latency_ms: z.object({
      p50: z.number().nullable(),
      p90: z.number().nullable(),
      p99: z.number().nullable(),
    }),
    per_minute: z.array(minuteSchema),
    uptime_seconds: z.number().openapi({ description: 'Replica time over the window' }),
    utilisation: z.number().nullable().openapi({ description: 'GPU seconds used per replica second' }),
    queue: z.object({ queued: z.number(), running: z.number() }),
    replicas: z.record(z.string(), z.number()).openapi({ description: 'Replica count by state' }),
  })
  .openapi('DeploymentMetrics');

export const LogsSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(z.object({ id: z.string(), replica_id: z.string(), at: z.string(), line: z.string() })),
  })
  .openapi('DeploymentLogs');

export const ReplicaEventSchema = z
  .object({
    id: z.string(),
    object: z.literal('replica_event'),
    replica_id: z.string(),
    state: z.enum(REPLICA_STATES),
    detail: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('ReplicaEvent');

export const ReplicaEventsSchema = z
  .object({ object: z.literal('list'), data: z.array(ReplicaEventSchema), has_more: z.boolean() })
  .openapi('ReplicaEvents');
