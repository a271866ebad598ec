import { eq } from 'drizzle-orm';
import type Stripe from 'stripe';
import { billingAccounts, ledgerEntries, payments, stripeEvents } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { levelBelow } from '../../core/billing/alerts.ts';
import { centsToMicroUsd, SUPPORTED_CURRENCIES } from '../../core/billing/amounts.ts';
import { turnOffAutoRefill } from '../../core/billing/auto-refill-switch.ts';
import type { LedgerKind } from '../../core/billing/kinds.ts';
import { orgTransfer, PLATFORM_ACCOUNTS, postTransaction } from '../../core/billing/ledger.ts';
import { DependencyUnavailableError } from '../../core/errors.ts';
import type { Transaction } from '../db.ts';
import { callStripe } from './stripe.ts';

/** The events the webhook endpoint is subscribed to (README "Deploying" lists them for Stripe's dashboard). */
export const HANDLED_STRIPE_EVENTS = [
  'checkout.session.completed',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.closed',
] as const;
type HandledType = (typeof HANDLED_STRIPE_EVENTS)[number];

export const isHandledEvent = (type: string): type is HandledType =>
  (HANDLED_STRIPE_EVENTS as readonly string[]).includes(type);

type Payment = typeof payments.$inferSelect;

export interface EventOutcome {
  outcome: 'applied' | 'duplicate' | 'ignored';
  detail: string;
  orgId: string | null;
  /** The org's balance after the event moved it (absent when it moved nothing). */
  balanceMicroUsd?: number;
  /** An auto-refill charge the card declined: its owners are told. */
  refillFailed?: { amountMicroUsd: number; reason: string };
}

/**
 * Thrown when an event refers to a payment this platform cannot place yet (a dispute delivered before
 * the checkout that it disputes): the webhook answers 503 and Stripe delivers it again later.
 */
export class EventNotReadyError extends DependencyUnavailableError {
  constructor(detail: string) {
    super('stripe', { cause: new Error(detail) });
    this.message = `Not ready to apply this event (${detail}); Stripe will retry it.`;
  }
}

/**
 * A refund or dispute of a charge no payment row matches: either this platform's payment whose
 * linking event has not arrived yet (retry later), or a charge made outside the platform on the same
 * Stripe account (ignore). The caller decides which, outside the transaction.
 */
class UnmatchedChargeError extends Error {
  readonly paymentIntentId: string | null;
  /** What to do when Stripe cannot show the PaymentIntent either: wait for the link, or let it go. */
  readonly ifIntentUnknown: 'retry' | 'ignore';
  constructor(
    paymentIntentId: string | null,
    detail: string,
    ifIntentUnknown: 'retry' | 'ignore' = 'ignore',
  ) {
    super(detail);
    this.paymentIntentId = paymentIntentId;
    this.ifIntentUnknown = ifIntentUnknown;
  }
}

const ignored = (detail: string, orgId: string | null = null): EventOutcome => ({
  outcome: 'ignored',
  detail,
  orgId,
});

async function lockPayment(tx: Transaction, where: ReturnType<typeof eq>): Promise<Payment | undefined> {
  const [payment] = await tx.select().from(payments).where(where).for('update');
  return payment;
}

/** Our payment behind a Stripe object: its metadata names it; else its PaymentIntent does. */
async function paymentFor(
  tx: Transaction,
  metadata: Stripe.Metadata | null | undefined,
  paymentIntentId: string | null,
): Promise<Payment | undefined> {
  const paymentId = metadata?.payment_id;
  if (paymentId) {
    const payment = await lockPayment(tx, eq(payments.id, paymentId));
    if (payment && payment.orgId === metadata?.org_id) return payment;
  }
  return paymentIntentId ? lockPayment(tx, eq(payments.stripePaymentIntentId, paymentIntentId)) : undefined;
}

const intentId = (value: string | { id: string } | null) =>
  typeof value === 'string' ? value : (value?.id ?? null);

/** Money in: the payment's one credit, keyed by the payment so no second event can credit it again. */
async function credit(
  tx: Transaction,
  payment: Payment,
  amountCents: number,
  kind: LedgerKind,
  description: string,
) {
  const amount = centsToMicroUsd(amountCents);
  const posted = await postTransaction(tx, {
    kind,
    idempotencyKey: `stripe:payment:${payment.id}`,
    description,
    reference: payment.id,
    lines: orgTransfer(payment.orgId, PLATFORM_ACCOUNTS.stripe, amount),
  });
  const balance = posted.balances[payment.orgId] ?? 0;
  // The balance rose: warnings for levels it is now above are re-armed.
  const [account] = await tx.select().from(billingAccounts).where(eq(billingAccounts.orgId, payment.orgId));
  if (account) {
    await tx
      .update(billingAccounts)
      .set({ alertedBelowMicroUsd: levelBelow(balance, account.alertThresholdsMicroUsd) })
      .where(eq(billingAccounts.orgId, payment.orgId));
  }
  return { duplicate: posted.duplicate, balance };
}

/** Money out for a refund or dispute: recorded whatever the balance (the card already has it back). */
async function debit(
  tx: Transaction,
  payment: Payment,
  amount: number,
  kind: LedgerKind,
  key: string,
  description: string,
) {
  const posted = await postTransaction(tx, {
    kind,
    idempotencyKey: key,
    description,
    reference: payment.id,
    lines: orgTransfer(payment.orgId, PLATFORM_ACCOUNTS.stripe, -amount),
  });
  return { balance: posted.balances[payment.orgId] ?? 0, duplicate: posted.duplicate };
}

const settledState = (payment: Payment) =>
  payment.state === 'pending' || payment.state === 'failed' ? 'succeeded' : payment.state;
const supported = (currency: string) => (SUPPORTED_CURRENCIES as readonly string[]).includes(currency);

async function checkoutCompleted(tx: Transaction, session: Stripe.Checkout.Session): Promise<EventOutcome> {
  const payment = await paymentFor(tx, session.metadata, null);
  if (payment?.kind !== 'checkout') return ignored('not a checkout started by this platform');
  if (session.payment_status !== 'paid')
    return ignored(`payment status is ${session.payment_status}`, payment.orgId);
  if (!supported(session.currency ?? ''))
    return ignored(`currency ${session.currency} is not accepted`, payment.orgId);
  const { balance, duplicate } = await credit(
    tx,
    payment,
    session.amount_total ?? 0,
    'top_up',
    'Added funds (card)',
  );
  await tx
    .update(payments)
    .set({
      state: settledState(payment),
      amountMicroUsd: centsToMicroUsd(session.amount_total ?? 0),
      stripeCheckoutSessionId: session.id,
      stripePaymentIntentId: intentId(session.payment_intent) ?? payment.stripePaymentIntentId,
    })
    .where(eq(payments.id, payment.id));
  return duplicate
    ? ignored('payment already credited', payment.orgId)
    : { outcome: 'applied', detail: 'credited', orgId: payment.orgId, balanceMicroUsd: balance };
}

async function intentSucceeded(tx: Transaction, intent: Stripe.PaymentIntent): Promise<EventOutcome> {
  const payment = await paymentFor(tx, intent.metadata, intent.id);
  if (!payment) return ignored('not a payment of this platform');
  await tx
    .update(payments)
    .set({ stripePaymentIntentId: intent.id, failureMessage: null })
    .where(eq(payments.id, payment.id));
  // A checkout is credited by its session (which says what the customer paid for); this event only
  // links the PaymentIntent, so refunds and disputes find the payment.
  if (payment.kind === 'checkout') return { outcome: 'applied', detail: 'linked', orgId: payment.orgId };
  if (!supported(intent.currency))
    return ignored(`currency ${intent.currency} is not accepted`, payment.orgId);
  const { balance, duplicate } = await credit(
    tx,
    payment,
    intent.amount_received,
    'auto_refill',
    'Auto-refill (saved card)',
  );
  await tx
    .update(payments)
    .set({ state: settledState(payment) })
    .where(eq(payments.id, payment.id));
  return duplicate
    ? ignored('payment already credited', payment.orgId)
    : { outcome: 'applied', detail: 'credited', orgId: payment.orgId, balanceMicroUsd: balance };
}

async function intentFailed(tx: Transaction, intent: Stripe.PaymentIntent): Promise<EventOutcome> {
  const payment = await paymentFor(tx, intent.metadata, intent.id);
  if (!payment) return ignored('not a payment of this platform');
  const reason = intent.last_payment_error?.message ?? 'the card was declined';
  // A later success of the same intent wins, whatever order the two events arrive in.
  if (payment.state !== 'pending') return ignored(`payment is already ${payment.state}`, payment.orgId);
  await tx
    .update(payments)
    .set({ state: 'failed', failureMessage: reason, stripePaymentIntentId: intent.id })
    .where(eq(payments.id, payment.id));
  if (payment.kind === 'auto_refill') await turnOffAutoRefill(tx, payment.orgId);
  return {
    outcome: 'applied',
    detail: 'failed',
    orgId: payment.orgId,
    ...(payment.kind === 'auto_refill'
      ? { refillFailed: { amountMicroUsd: payment.amountMicroUsd, reason } }
      : {}),
  };
}

async function chargeRefunded(tx: Transaction, charge: Stripe.Charge): Promise<EventOutcome> {
  const payment = await paymentFor(tx, charge.metadata, intentId(charge.payment_intent));
  if (!payment) {
    // Every charge of the platform is made for one of its orgs' Stripe customers.
    const customer = typeof charge.customer === 'string' ? charge.customer : (charge.customer?.id ?? null);
    const [owner] = customer
      ? await tx.select().from(billingAccounts).where(eq(billingAccounts.stripeCustomerId, customer))
      : [];
    if (charge.metadata?.payment_id) throw new EventNotReadyError(`no payment for charge ${charge.id} yet`);
    // A customer of ours, but the charge may have been made by hand (the Dashboard): its PaymentIntent
    // tells whether it is one of ours whose link has not arrived yet, or never will be.
    // Every charge the platform makes has a PaymentIntent: one without is not ours.
    const intent = intentId(charge.payment_intent);
    if (owner && intent)
      throw new UnmatchedChargeError(intent, `no payment for charge ${charge.id}`, 'retry');
    return ignored('not a charge of this platform');
  }
  // `amount_refunded` is cumulative: only what this platform has not yet taken back moves, so partial
  // refunds delivered out of order or twice add up to the refunded total exactly once.
  const refunded = centsToMicroUsd(charge.amount_refunded);
  const owed = refunded - payment.refundedMicroUsd;
  if (owed <= 0) return ignored('refund already recorded', payment.orgId);
  // Never more than is still credited: a dispute delivered first may have taken it back already. The
  // whole refund is recorded all the same, so a dispute won later gives back only what it alone took.
  const taken = Math.min(owed, outstandingOf(payment));
  const debited =
    taken > 0
      ? await debit(
          tx,
          payment,
          taken,
          'refund',
          `stripe:refund:${charge.id}:${charge.amount_refunded}`,
          'Refund to card',
        )
      : null;
  await tx
    .update(payments)
    .set({
      refundedMicroUsd: refunded,
      state:
        refunded >= payment.amountMicroUsd && payment.disputedMicroUsd === 0 ? 'refunded' : payment.state,
    })
    .where(eq(payments.id, payment.id));
  if (!debited)
    return {
      outcome: 'applied',
      detail: 'refund recorded; a dispute took it back already',
      orgId: payment.orgId,
    };
  return { outcome: 'applied', detail: 'refunded', orgId: payment.orgId, balanceMicroUsd: debited.balance };
}

/** What of a payment is still credited to the org: a refunded or disputed part is not taken again. */
const outstandingOf = (payment: Payment) =>
  payment.amountMicroUsd - payment.refundedMicroUsd - payment.disputedMicroUsd;

/**
 * A chargeback takes the disputed amount back when Stripe withdraws it: at `charge.dispute.created`,
 * or at `charge.dispute.funds_withdrawn` for an inquiry that escalated (both keyed by the dispute, so
 * it is taken once). An inquiry (`warning_*`) withdraws nothing, so it takes nothing.
 */
async function disputeOpened(tx: Transaction, dispute: Stripe.Dispute): Promise<EventOutcome> {
  const payment = await paymentFor(tx, null, intentId(dispute.payment_intent));
  if (!payment)
    throw new UnmatchedChargeError(intentId(dispute.payment_intent), `no payment for dispute ${dispute.id}`);
  if (String(dispute.status ?? '').startsWith('warning_'))
    return ignored('an inquiry: Stripe withdrew nothing', payment.orgId);
  // Never more than is still credited from the payment: a refunded charge disputed anyway owes nothing more.
  const amount = Math.min(centsToMicroUsd(dispute.amount), outstandingOf(payment));
  if (amount <= 0) return ignored('nothing left to take back (refunded or disputed already)', payment.orgId);
  const { balance, duplicate } = await debit(
    tx,
    payment,
    amount,
    'dispute',
    `stripe:dispute:${dispute.id}`,
    'Card payment disputed',
  );
  if (duplicate) return ignored('dispute already taken back', payment.orgId);
  await tx
    .update(payments)
    .set({ disputedMicroUsd: payment.disputedMicroUsd + amount, state: 'disputed' })
    .where(eq(payments.id, payment.id));
  // A disputed card is not charged again automatically.
  await turnOffAutoRefill(tx, payment.orgId);
  return { outcome: 'applied', detail: 'disputed', orgId: payment.orgId, balanceMicroUsd: balance };
}

/**
 * A dispute the platform won gives back what its opening took, less what a refund recorded while it
 * was open owes: each part of a payment is taken back once, whichever of the two Stripe sent first.
 */
async function disputeClosed(tx: Transaction, dispute: Stripe.Dispute): Promise<EventOutcome> {
  const payment = await paymentFor(tx, null, intentId(dispute.payment_intent));
  if (!payment)
    throw new UnmatchedChargeError(intentId(dispute.payment_intent), `no payment for dispute ${dispute.id}`);
  if (dispute.status !== 'won') return ignored(`dispute closed as ${dispute.status}`, payment.orgId);
  const [taken] = await tx
    .select({ amount: ledgerEntries.amountMicroUsd })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.idempotencyKey, `stripe:dispute:${dispute.id}#0`));
  if (!taken) {
    // Nothing to give back if its opening could take nothing (the payment was refunded first);
    // otherwise the opening has not been applied yet, and Stripe retries this after it.
    if (outstandingOf(payment) <= 0) return ignored('nothing was taken back for this dispute', payment.orgId);
    throw new EventNotReadyError(`dispute ${dispute.id} was not opened here yet`);
  }
  const tookBack = -taken.amount;
  // Its hold on the payment was released already (another event closing the same dispute).
  if (payment.disputedMicroUsd < tookBack) return ignored('dispute already settled', payment.orgId);
  // What the dispute took, less what a refund recorded while it was open now takes (that refund took
  // nothing then, the dispute holding it all): the payment ends as taken back as if the refund alone
  // had happened, in whatever order the two arrived.
  const heldByOthers = payment.refundedMicroUsd + payment.disputedMicroUsd - tookBack;
  const amount = Math.max(0, Math.min(tookBack, payment.amountMicroUsd - heldByOthers));
  const disputed = payment.disputedMicroUsd - tookBack;
  const state =
    disputed > 0 ? 'disputed' : payment.refundedMicroUsd >= payment.amountMicroUsd ? 'refunded' : 'succeeded';
  const posted =
    amount > 0
      ? await postTransaction(tx, {
          kind: 'dispute',
          idempotencyKey: `stripe:dispute-won:${dispute.id}`,
          description: 'Dispute won: funds reinstated',
          reference: payment.id,
          lines: orgTransfer(payment.orgId, PLATFORM_ACCOUNTS.stripe, amount),
        })
      : null;
  if (posted?.duplicate) return ignored('dispute already reinstated', payment.orgId);
  await tx.update(payments).set({ disputedMicroUsd: disputed, state }).where(eq(payments.id, payment.id));
  if (!posted)
    return {
      outcome: 'applied',
      detail: 'dispute won; refunded meanwhile, nothing to give back',
      orgId: payment.orgId,
    };
  return {
    outcome: 'applied',
    detail: 'dispute won',
    orgId: payment.orgId,
    balanceMicroUsd: posted.balances[payment.orgId] ?? 0,
  };
}

/**
 * An auto-refill whose charge Stripe answered `succeeded` is credited at once, by the same step as
 * its `payment_intent.succeeded` (one credit per payment, whichever comes first): waiting for the
 * webhook left the org at its old balance for the rest of the minute run, where an org refilled at
 * $0 had its endpoints scaled to zero as unfunded and its requests answered 402.
 */
export function creditSucceededIntent(ctx: ServiceContext, intent: Stripe.PaymentIntent) {
  return ctx.db.transaction((tx) => intentSucceeded(tx, intent));
}

const HANDLERS: Record<HandledType, (tx: Transaction, object: never) => Promise<EventOutcome>> = {
  'checkout.session.completed': checkoutCompleted,
  'payment_intent.succeeded': intentSucceeded,
  'payment_intent.payment_failed': intentFailed,
  'charge.refunded': chargeRefunded,
  'charge.dispute.created': disputeOpened,
  'charge.dispute.funds_withdrawn': disputeOpened,
  'charge.dispute.closed': disputeClosed,
};

/**
 * Applies a verified Stripe event exactly once: the event id is claimed in the same transaction as
 * the money it moves, so a redelivery (even a concurrent one, which waits on the claimed row) finds
 * it and changes nothing; and each movement is also keyed by what it is about (the payment, the
 * refund total, the dispute), so two different events about one payment cannot both move money.
 */
export async function applyStripeEvent(
  ctx: ServiceContext,
  event: Stripe.Event & { type: HandledType },
): Promise<EventOutcome> {
  try {
    return await applyOnce(ctx, event, (tx) => {
      const handler = HANDLERS[event.type] as (tx: Transaction, object: unknown) => Promise<EventOutcome>;
      return handler(tx, event.data.object);
    });
  } catch (error) {
    if (!(error instanceof UnmatchedChargeError)) throw error;
    // Whether the disputed charge is the platform's: its PaymentIntent carries our metadata.
    const intent = error.paymentIntentId
      ? await callStripe(() => ctx.stripe.paymentIntents.retrieve(error.paymentIntentId ?? '')).catch(
          (cause: unknown) => {
            if (cause instanceof DependencyUnavailableError) throw cause;
            return null;
          },
        )
      : null;
    if (intent?.metadata?.payment_id || (!intent && error.ifIntentUnknown === 'retry'))
      throw new EventNotReadyError(error.message);
    return applyOnce(ctx, event, async () => ignored('not a charge of this platform'));
  }
}

async function applyOnce(
  ctx: ServiceContext,
  event: Stripe.Event,
  apply: (tx: Transaction) => Promise<EventOutcome>,
): Promise<EventOutcome> {
  return ctx.db.transaction(async (tx) => {
    const claimed = await tx
      .insert(stripeEvents)
      .values({ id: event.id, type: event.type, outcome: 'pending' })
      .onConflictDoNothing()
      .returning({ id: stripeEvents.id });
    if (claimed.length === 0) return { outcome: 'duplicate', detail: 'event already applied', orgId: null };
    const result = await apply(tx);
    await tx
      .update(stripeEvents)
      .set({ outcome: `${result.outcome}: ${result.detail}`, orgId: result.orgId })
      .where(eq(stripeEvents.id, event.id));
    return result;
  });
}
