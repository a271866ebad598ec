import { bigint, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/**
 * Spend per subject (`endpoint:<id>`, `api_key:<id>`) per period (a UTC day `2026-11-29`, a month
 * `2026-11`, or `total`), kept for spend caps and the live cost of a deployment. Endpoint rows move in
 * the metering transaction with the ledger; key rows when a job of the key finishes.
 */
export const spendCounters = pgTable(
  'spend_counters',
  {
    subject: text('subject').notNull(),
    period: text('period').notNull(),
    spendMicroUsd: bigint('spend_micro_usd', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.subject, t.period] })],
);
