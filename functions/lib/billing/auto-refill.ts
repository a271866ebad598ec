import { and, desc, eq, gt, lt, ne, sql } from 'drizzle-orm';
import { billingAccounts, orgBalances, payments } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { AUTO_REFILL_INTERVAL_MS, microUsdToCents } from '../../core/billing/amounts.ts';
import { turnOffAutoRefill } from '../../core/billing/auto-refill-switch.ts';
import { newId } from '../../core/ids.ts';
import { autoRefillFailedEmail } from '../../core/mail/templates.ts';
import { savedCards } from './customer.ts';
import { notifyBilling } from './notify.ts';
import { callStripe, isCardError, isIdempotencyConflict, isRefusedRequest } from './stripe.ts';
import { creditSucceededIntent } from './stripe-events.ts';

export type RefillResult = 'skipped' | 'charged' | 'declined' | 'no_card';

/** A charge whose request never got an answer is retried with its own key after this long. */
const UNANSWERED_RETRY_MS = 60_000;

/**
 * Decides, under the org's billing row lock, whether to charge the saved card: auto-refill on, the
 * balance under its threshold, and no automatic charge in the last hour (so a draining endpoint
 * cannot loop on the card). A charge whose request failed in transit is retried with the same
 * idempotency key, which Stripe turns into the same PaymentIntent rather than a second charge.
 */
async function decide(ctx: ServiceContext, orgId: string) {
  const nowMs = ctx.clock.now().getTime();
  return ctx.db.transaction(async (tx) => {
    const [account] = await tx
      .select()
      .from(billingAccounts)
      .where(eq(billingAccounts.orgId, orgId))
      .for('update');
    if (!account?.autoRefillEnabled || !account.stripeCustomerId) return null;
    const [balance] = await tx.select().from(orgBalances).where(eq(orgBalances.orgId, orgId));
    if ((balance?.balanceMicroUsd ?? 0) >= account.autoRefillThresholdMicroUsd) return null;
    const [recent] = await tx
      .select()
      .from(payments)
      .where(
        and(
          eq(payments.orgId, orgId),
          eq(payments.kind, 'auto_refill'),
          // A declined charge turned auto-refill off; turned back on (a new card), it charges at once.
          ne(payments.state, 'failed'),
          gt(payments.createdAt, new Date(nowMs - AUTO_REFILL_INTERVAL_MS)),
        ),
      )
      .orderBy(desc(payments.createdAt))
      .limit(1);
    const customer = account.stripeCustomerId;
    if (recent) {
      const unanswered =
        recent.state === 'pending' &&
        recent.stripePaymentIntentId === null &&
        recent.failureMessage === null &&
        recent.updatedAt.getTime() < nowMs - UNANSWERED_RETRY_MS;
      return unanswered ? { paymentId: recent.id, amount: recent.amountMicroUsd, customer } : null;
    }
    const paymentId = newId('payment');
    await tx.insert(payments).values({
      id: paymentId,
      orgId,
      kind: 'auto_refill',
      amountMicroUsd: account.autoRefillAmountMicroUsd,
      // The hour between automatic charges is measured on the same clock as the check above.
      createdAt: new Date(nowMs),
    });
    return { paymentId, amount: account.autoRefillAmountMicroUsd, customer };
  });
}

/**
 * Charges the saved card off-session when the balance is under the org's threshold. The balance
 * rises when Stripe answers that the charge succeeded, or when its `payment_intent.succeeded` arrives
 * at the webhook if that comes first (one credit, keyed by the payment); a decline arrives as
 * `payment_intent.payment_failed`, which marks the payment failed and tells the org's billing contacts.
 */
export async function maybeAutoRefill(ctx: ServiceContext, orgId: string): Promise<RefillResult> {
  const decided = await decide(ctx, orgId);
  if (!decided) return 'skipped';
  const [card] = await savedCards(ctx, decided.customer);
  const record = (changes: Partial<typeof payments.$inferInsert>) =>
    ctx.db.update(payments).set(changes).where(eq(payments.id, decided.paymentId));
  // Nothing a webhook will report: the owners are told here, and the card is not tried again.
  const giveUp = async (reason: string) => {
    await record({ state: 'failed', failureMessage: reason });
    await turnOffAutoRefill(ctx.db, orgId);
    await notifyBilling(ctx, orgId, (to, org) =>
      autoRefillFailedEmail(ctx.config.PUBLIC_URL, to, org, decided.amount, reason),
    );
  };
  if (!card) {
    await giveUp('No saved card: add funds with a card to save one.');
    return 'no_card';
  }
  try {
    const intent = await callStripe(() =>
      ctx.stripe.paymentIntents.create(
        {
          amount: microUsdToCents(decided.amount),
          currency: 'usd',
          customer: decided.customer,
          payment_method: card.id,
          off_session: true,
          confirm: true,
          description: 'AI Cloud auto-refill',
          metadata: { org_id: orgId, payment_id: decided.paymentId, kind: 'auto_refill' },
        },
        { idempotencyKey: `refill:${decided.paymentId}` },
      ),
    );
    await record({ stripePaymentIntentId: intent.id });
    if (intent.status === 'succeeded') await creditSucceededIntent(ctx, intent);
    ctx.logger.info('auto-refill charged', { orgId, paymentId: decided.paymentId, intent: intent.id });
    return 'charged';
  } catch (error) {
    if (isIdempotencyConflict(error)) {
      // A retry of a charge whose first reply was lost, sent with other parameters (the saved card
      // changed meanwhile). Whether the first attempt charged is unknown here: if it did, its webhook
      // credits this payment. Marked answered, it is not retried, and it still counts as the hour's
      // automatic charge, so the card is never charged twice in the hour.
      await record({ failureMessage: `not retried: ${error.message}` });
      ctx.logger.warn('auto-refill retry refused', { orgId, paymentId: decided.paymentId });
      return 'skipped';
    }
    if (isRefusedRequest(error)) {
      await giveUp(error.message);
      ctx.logger.warn('auto-refill refused', { orgId, paymentId: decided.paymentId, reason: error.message });
      return 'declined';
    }
    if (!isCardError(error)) throw error;
    // The webhook's payment_failed marks it failed, turns auto-refill off too and emails; this keeps
    // the intent for lookups and stops the next sweep at once.
    await record({ stripePaymentIntentId: error.payment_intent?.id ?? null, failureMessage: error.message });
    await turnOffAutoRefill(ctx.db, orgId);
    ctx.logger.warn('auto-refill declined', { orgId, paymentId: decided.paymentId, reason: error.message });
    return 'declined';
  }
}

/**
 * Every org with auto-refill on and its balance under the threshold, charged (at most hourly each).
 * Run by the minute reconcile, so an org at zero, with nothing left running to meter, still refills.
 */
export async function refillDueOrgs(ctx: ServiceContext, limit = 200): Promise<number> {
  const due = await ctx.db
    .select({ orgId: billingAccounts.orgId })
    .from(billingAccounts)
    .leftJoin(orgBalances, eq(orgBalances.orgId, billingAccounts.orgId))
    .where(
      and(
        eq(billingAccounts.autoRefillEnabled, true),
        lt(sql`coalesce(${orgBalances.balanceMicroUsd}, 0)`, billingAccounts.autoRefillThresholdMicroUsd),
      ),
    )
    .limit(limit);
  let charged = 0;
  for (const { orgId } of due) {
    try {
      if ((await maybeAutoRefill(ctx, orgId)) === 'charged') charged++;
    } catch (error) {
      ctx.logger.error('auto-refill failed', {
        orgId,
        cause: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return charged;
}
