import { bigint, boolean, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { DEFAULT_BILLING_SETTINGS } from '../../functions/core/billing/amounts.ts';
import { orgs } from './orgs.ts';

/**
 * An org's billing settings: its Stripe customer, auto-refill ("add $50 when the balance drops below
 * $10") and the balance levels that send a warning email. The row is locked while an automatic
 * charge is decided, so two meter runs cannot both charge the card.
 */
export const billingAccounts = pgTable('billing_accounts', {
  orgId: text('org_id')
    .primaryKey()
    .references(() => orgs.id),
  stripeCustomerId: text('stripe_customer_id').unique(),
  autoRefillEnabled: boolean('auto_refill_enabled')
    .notNull()
    .default(DEFAULT_BILLING_SETTINGS.autoRefillEnabled),
  autoRefillThresholdMicroUsd: bigint('auto_refill_threshold_micro_usd', { mode: 'number' })
    .notNull()
    .default(DEFAULT_BILLING_SETTINGS.autoRefillThresholdMicroUsd),
  autoRefillAmountMicroUsd: bigint('auto_refill_amount_micro_usd', { mode: 'number' })
    .notNull()
    .default(DEFAULT_BILLING_SETTINGS.autoRefillAmountMicroUsd),
  /** Balance levels (descending) under which the org's billing contacts get one email each. */
  alertThresholdsMicroUsd: bigint('alert_thresholds_micro_usd', { mode: 'number' })
    .array()
    .notNull()
    .default(DEFAULT_BILLING_SETTINGS.alertThresholdsMicroUsd),
  /** The lowest level already warned about since the balance last rose; null when none. */
  alertedBelowMicroUsd: bigint('alerted_below_micro_usd', { mode: 'number' }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Stripe events already applied: a redelivered event finds its id here and changes nothing. */
export const stripeEvents = pgTable('stripe_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  orgId: text('org_id').references(() => orgs.id),
  /** What the event did: applied, or ignored (and why). */
  outcome: text('outcome').notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
});
