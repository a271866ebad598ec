import { eq } from 'drizzle-orm';
import { payments } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { auditActorOf, recordAudit } from '../../core/audit/record.ts';
import { type Currency, centsToMicroUsd } from '../../core/billing/amounts.ts';
import { newId } from '../../core/ids.ts';
import { authorize } from '../../core/orgs/authorize.ts';
import { stripeCustomerFor } from './customer.ts';
import { callStripe } from './stripe.ts';

/**
 * Add funds: a pending payment and a Stripe Checkout session for it. Nothing is credited here; the
 * balance rises only when Stripe's signed `checkout.session.completed` arrives at the webhook. The
 * card is saved for off-session use, so auto-refill can charge it later.
 */
export async function startCheckout(ctx: ServiceContext, input: { amountCents: number; currency: Currency }) {
  const { caller } = authorize(ctx.caller, 'billing.manage');
  const customer = await stripeCustomerFor(ctx, caller.orgId);
  const paymentId = newId('payment');
  await ctx.db.transaction(async (tx) => {
    await tx.insert(payments).values({
      id: paymentId,
      orgId: caller.orgId,
      kind: 'checkout',
      amountMicroUsd: centsToMicroUsd(input.amountCents),
      currency: input.currency,
    });
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'billing.checkout',
      targetType: 'payment',
      targetId: paymentId,
      origin: ctx.origin,
      metadata: { amountCents: input.amountCents, currency: input.currency },
    });
  });
  const metadata = { org_id: caller.orgId, payment_id: paymentId, kind: 'checkout' };
  const billingPage = new URL('/billing', ctx.config.PUBLIC_URL);
  const session = await callStripe(() =>
    ctx.stripe.checkout.sessions.create(
      {
        mode: 'payment',
        // Cards only: the balance is credited when the checkout completes paid, and auto-refill charges
        // the saved card; a delayed method (a bank debit) would complete unpaid and settle days later.
        allowed_payment_method_types: ['card'],
        customer,
        client_reference_id: caller.orgId,
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: input.currency,
              unit_amount: input.amountCents,
              product_data: { name: 'AI Cloud credit', description: 'Prepaid balance for GPU time' },
            },
          },
        ],
        payment_intent_data: { setup_future_usage: 'off_session', metadata, description: 'AI Cloud credit' },
        metadata,
        success_url: `${billingPage}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${billingPage}?checkout=cancelled`,
      },
      { idempotencyKey: `checkout:${paymentId}` },
    ),
  );
  await ctx.db
    .update(payments)
    .set({ stripeCheckoutSessionId: session.id })
    .where(eq(payments.id, paymentId));
  return {
    id: paymentId,
    object: 'checkout' as const,
    status: 'pending' as const,
    amount_cents: input.amountCents,
    currency: input.currency,
    checkout_url: session.url,
    expires_at: session.expires_at,
  };
}

/** A Stripe customer-portal session: saved cards, receipts and invoices, on Stripe's own pages. */
export async function startPortal(ctx: ServiceContext) {
  const { caller } = authorize(ctx.caller, 'billing.manage');
  const customer = await stripeCustomerFor(ctx, caller.orgId);
  const portal = await callStripe(() =>
    ctx.stripe.billingPortal.sessions.create({
      customer,
      return_url: new URL('/billing', ctx.config.PUBLIC_URL).toString(),
    }),
  );
  return { url: portal.url };
}
