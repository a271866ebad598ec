import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, prefixedId, timestamps } from './columns.ts';
import { jobs } from './jobs.ts';
import { orgs } from './orgs.ts';

/** One webhook notification of a job event to the job's URL, retried through QStash until it lands. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: prefixedId('webhookDelivery'),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id),
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id),
    event: text('event').notNull(),
    url: text('url').notNull(),
    /** pending → succeeded | failed (all retries used). A replay sets it back to pending. */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    ...timestamps(),
  },
  (t) => [
    index('webhook_deliveries_org_idx').on(t.orgId, t.createdAt),
    index('webhook_deliveries_job_idx').on(t.jobId),
    // Deliveries never handed to QStash (its publish failed): the minute reconcile sends them.
    index('webhook_deliveries_unsent_idx')
      .on(t.createdAt)
      .where(sql`${t.status} = 'pending' and ${t.attempts} = 0`),
  ],
);

/** Every try of a delivery, with what the receiver answered. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: prefixedId('webhookAttempt'),
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
    at: createdAt(),
  },
  (t) => [index('webhook_attempts_delivery_idx').on(t.deliveryId, t.at)],
);
