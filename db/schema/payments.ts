import { sql } from 'drizzle-orm';
import { bigint, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { prefixedId, timestamps } from './columns.ts';
import { paymentKindEnum, paymentStateEnum } from './enums.ts';
import { orgs } from './orgs.ts';

/** Money coming in through Stripe. The ledger is credited only from the verified webhook. */
export const payments = pgTable(
  'payments',
  {
    id: prefixedId('payment'),
    orgId: text('org_id')
      .notNull()
      .references(() => orgs.id),
    kind: paymentKindEnum('kind').notNull(),
    state: paymentStateEnum('state').notNull().default('pending'),
    amountMicroUsd: bigint('amount_micro_usd', { mode: 'number' }).notNull(),
    currency: text('currency').notNull().default('usd'),
    stripeCheckoutSessionId: text('stripe_checkout_session_id'),
    stripePaymentIntentId: text('stripe_payment_intent_id'),
    /** Refunded and disputed so far: a later `charge.refunded` carries the cumulative amount. */
    refundedMicroUsd: bigint('refunded_micro_usd', { mode: 'number' }).notNull().default(0),
    disputedMicroUsd: bigint('disputed_micro_usd', { mode: 'number' }).notNull().default(0),
    /** Why the card was declined, as Stripe put it. */
    failureMessage: text('failure_message'),
    ...timestamps(),
  },
  (t) => [
    index('payments_org_idx').on(t.orgId, t.createdAt),
    uniqueIndex('payments_checkout_session_key')
      .on(t.stripeCheckoutSessionId)
      .where(sql`${t.stripeCheckoutSessionId} is not null`),
    uniqueIndex('payments_payment_intent_key')
      .on(t.stripePaymentIntentId)
      .where(sql`${t.stripePaymentIntentId} is not null`),
  ],
);
