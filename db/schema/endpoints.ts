import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { prefixedId, timestamps } from './columns.ts';
import { endpointStateEnum } from './enums.ts';
import { models } from './models.ts';
import { orgs } from './orgs.ts';
import { users } from './users.ts';

/** A serverless endpoint: a catalog model or custom image, scaled between min and max replicas. */
export const endpoints = pgTable(
  'endpoints',
  {
    id: prefixedId('endpoint'),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id),
    name: text('name').notNull(),
    modelId: text('model_id').references(() => models.id),
    image: text('image'),
    /** GPU type slugs in preference order; the orchestrator falls through them on capacity errors. */
    gpuTypes: text('gpu_types').array().notNull(),
    /** GPUs per replica (tensor parallelism for large models). */
    gpuCount: integer('gpu_count').notNull().default(1),
    minReplicas: integer('min_replicas').notNull().default(0),
    maxReplicas: integer('max_replicas').notNull().default(1),
    idleTimeoutSeconds: integer('idle_timeout_seconds').notNull().default(300),
    concurrencyPerReplica: integer('concurrency_per_replica').notNull().default(1),
    /** Spend caps (UTC day, calendar month) on this endpoint's GPU time; null: none. */
    spendCapDailyMicroUsd: bigint('spend_cap_daily_micro_usd', { mode: 'number' }),
    spendCapMonthlyMicroUsd: bigint('spend_cap_monthly_micro_usd', { mode: 'number' }),
    env: jsonb('env').$type<Record<string, string>>().notNull().default({}),
    state: endpointStateEnum('state').notNull().default('active'),
    createdByUserId: text('created_by_user_id').references(() => users.id, { onDelete: 'set null' }),
    ...timestamps(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    index('endpoints_org_idx').on(t.orgId, t.createdAt),
    check('endpoints_model_or_image', sql`(${t.modelId} is not null) <> (${t.image} is not null)`),
    check('endpoints_replica_bounds', sql`${t.minReplicas} >= 0 and ${t.maxReplicas} >= ${t.minReplicas}`),
    check('endpoints_concurrency_positive', sql`${t.concurrencyPerReplica} > 0`),
    check('endpoints_gpu_count_range', sql`${t.gpuCount} between 1 and 8`),
  ],
);
