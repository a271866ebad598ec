import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, real, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { prefixedId, timestamps } from './columns.ts';
import { endpoints } from './endpoints.ts';
import { computeProviderEnum, replicaStateEnum } from './enums.ts';
import { gpuTypes } from './gpu-types.ts';
import { orgs } from './orgs.ts';

/** One running copy of an endpoint on one GPU host; billed from `activeAt` to `releasedAt`. */
export const replicas = pgTable(
  'replicas',
  {
    id: prefixedId('replica'),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => endpoints.id),
    gpuTypeId: text('gpu_type_id')
      .notNull()
      .references(() => gpuTypes.id),
    gpuCount: integer('gpu_count').notNull().default(1),
    provider: computeProviderEnum('provider').notNull(),
    /** ECS task ARN, EC2 instance id or local process handle. */
    providerRef: text('provider_ref'),
    state: replicaStateEnum('state').notNull().default('requested'),
    /** SHA-256 of the replica's worker token. */
    workerTokenHash: text('worker_token_hash').notNull(),
    /** Hourly price fixed when the replica was requested, so a catalog price change never re-prices it. */
    pricePerHourMicroUsd: bigint('price_per_hour_micro_usd', { mode: 'number' }).notNull(),
    busySeconds: real('busy_seconds').notNull().default(0),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
    activeAt: timestamp('active_at', { withTimezone: true }),
    lastHeartbeatAt: timestamp('last_heartbeat_at', { withTimezone: true }),
    releasedAt: timestamp('released_at', { withTimezone: true }),
    /** Uptime before this instant has been charged to the ledger (per minute). */
    billedThrough: timestamp('billed_through', { withTimezone: true }),
    failureReason: text('failure_reason'),
    ...timestamps(),
  },
  (t) => [
    index('replicas_endpoint_state_idx').on(t.endpointId, t.state),
    // An endpoint's latest replicas (the orchestrator's crash-loop count), however many it has had.
    index('replicas_endpoint_requested_idx').on(t.endpointId, t.requestedAt),
    index('replicas_org_idx').on(t.orgId, t.requestedAt),
    uniqueIndex('replicas_worker_token_key').on(t.workerTokenHash),
    uniqueIndex('replicas_provider_ref_key')
      .on(t.provider, t.providerRef)
      .where(sql`${t.providerRef} is not null`),
  ],
);
