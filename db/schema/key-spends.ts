import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The jobs whose GPU time has been added to their API key's spend counters: the add and this row are
 * one statement, so a finish retried after its reply was lost (or after the edge died mid-way) adds a
 * job's spend exactly once. Rows older than any possible retry are pruned by the minute sweep.
 */
export const keySpends = pgTable(
  'key_spends',
  {
    jobId: text('job_id').primaryKey(),
    apiKeyId: text('api_key_id').notNull(),
    spentAt: timestamp('spent_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('key_spends_spent_at_idx').on(t.spentAt)],
);
