import { sql } from 'drizzle-orm';
import { pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { prefixedId, timestamps } from './columns.ts';
import { users } from './users.ts';

export const orgs = pgTable(
  'orgs',
  {
    id: prefixedId('org'),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    /** Set for the org created with a user's account; it cannot be deleted while the user exists. */
    personalOfUserId: text('personal_of_user_id').references(() => users.id, { onDelete: 'set null' }),
    stripeCustomerId: text('stripe_customer_id'),
    /** Standard Webhooks signing secret (`whsec_…`) for this org's job webhooks; made on first use. */
    webhookSecret: text('webhook_secret'),
    /** The secret before the last rotation: deliveries are signed with both until it expires. */
    previousWebhookSecret: text('previous_webhook_secret'),
    previousWebhookSecretExpiresAt: timestamp('previous_webhook_secret_expires_at', { withTimezone: true }),
    ...timestamps(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('orgs_slug_key').on(t.slug),
    uniqueIndex('orgs_stripe_customer_key')
      .on(t.stripeCustomerId)
      .where(sql`${t.stripeCustomerId} is not null`),
  ],
);
