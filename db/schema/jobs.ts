import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, real, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { apiKeys } from './api-keys.ts';
import { prefixedId, timestamps } from './columns.ts';
import { endpoints } from './endpoints.ts';
import { jobKindEnum, jobStateEnum } from './enums.ts';
import { orgs } from './orgs.ts';
import { replicas } from './replicas.ts';

/** A unit of inference work. Synchronous jobs live in Redis only; async ones are recorded here. */
export const jobs = pgTable(
  'jobs',
  {
    id: prefixedId('job'),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => endpoints.id),
    apiKeyId: text('api_key_id').references(() => apiKeys.id),
    kind: jobKindEnum('kind').notNull(),
    state: jobStateEnum('state').notNull().default('queued'),
    /** Request body, or a storage reference for large payloads (audio, images). */
    input: jsonb('input').notNull(),
    output: jsonb('output'),
    error: jsonb('error'),
    idempotencyKey: text('idempotency_key'),
    /** With an Idempotency-Key: the request's fingerprint, so the key sent with another request is refused. */
    requestFingerprint: text('request_fingerprint'),
    webhookUrl: text('webhook_url'),
    webhookEvents: text('webhook_events').array(),
    replicaId: text('replica_id').references(() => replicas.id),
    gpuSeconds: real('gpu_seconds'),
    costMicroUsd: bigint('cost_micro_usd', { mode: 'number' }),
    deadlineAt: timestamp('deadline_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    ...timestamps(),
  },
  (t) => [
    index('jobs_org_created_idx').on(t.orgId, t.createdAt),
    index('jobs_endpoint_state_idx').on(t.endpointId, t.state),
    uniqueIndex('jobs_org_idempotency_key')
      .on(t.orgId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
  ],
);
