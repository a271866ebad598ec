import { eq, sql } from 'drizzle-orm';
import { billingAccounts, orgs } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { NotFoundError } from '../../core/errors.ts';
import { callStripe } from './stripe.ts';

/**
 * The org's Stripe customer, created on first need. The creation is keyed by the org, so two
 * concurrent first payments get one customer from Stripe, and the row keeps whichever id landed first.
 */
export async function stripeCustomerFor(ctx: ServiceContext, orgId: string): Promise<string> {
  const [existing] = await ctx.db
    .select({ customer: billingAccounts.stripeCustomerId })
    .from(billingAccounts)
    .where(eq(billingAccounts.orgId, orgId));
  if (existing?.customer) return existing.customer;
  const [org] = await ctx.db.select({ name: orgs.name }).from(orgs).where(eq(orgs.id, orgId));
  if (!org) throw new NotFoundError('Organization not found.');
  const customer = await callStripe(() =>
    ctx.stripe.customers.create(
      { name: org.name, metadata: { org_id: orgId } },
      { idempotencyKey: `customer:${orgId}` },
    ),
  );
  const [row] = await ctx.db
    .insert(billingAccounts)
    .values({ orgId, stripeCustomerId: customer.id })
    .onConflictDoUpdate({
      target: billingAccounts.orgId,
      set: {
        stripeCustomerId: sql`coalesce(${billingAccounts.stripeCustomerId}, excluded.stripe_customer_id)`,
      },
    })
    .returning({ customer: billingAccounts.stripeCustomerId });
  return row?.customer ?? customer.id;
}

export interface SavedCard {
  id: string;
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
}

/** The cards saved on the org's Stripe customer, newest first (auto-refill charges the first). */
export async function savedCards(ctx: ServiceContext, customerId: string): Promise<SavedCard[]> {
  const methods = await callStripe(() =>
    ctx.stripe.customers.listPaymentMethods(customerId, { type: 'card', limit: 10 }),
  );
  return methods.data.flatMap((method) =>
    method.card
      ? [
          {
            id: method.id,
            brand: method.card.brand,
            last4: method.card.last4,
            exp_month: method.card.exp_month,
            exp_year: method.card.exp_year,
          },
        ]
      : [],
  );
}
