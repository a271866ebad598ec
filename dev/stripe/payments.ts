import type { EventSender } from './events.ts';
import {
  type StripeObject,
  type StripeStore,
  stripeId,
  TEST_CARDS,
  type TestCardNumber,
  unixNow,
} from './store.ts';

/** An error in Stripe's shape (`{"error":{type,code,message,…}}`) with its HTTP status. */
export class StripeApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly extra: Record<string, unknown>;

  constructor(status: number, type: string, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.extra = extra;
  }
  get body() {
    return { error: { type: this.type, message: this.message, ...this.extra } };
  }
}

export const missing = (kind: string, id: string, param = 'id') =>
  new StripeApiError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, {
    code: 'resource_missing',
    param,
  });

export interface RequestInfo {
  /** Null for what the customer did on a Stripe page rather than through the API. */
  id: string | null;
  idempotencyKey: string | null;
}

/** A card number from the checkout page becomes a PaymentMethod (saved on the customer when asked). */
export function createCardPaymentMethod(store: StripeStore, number: TestCardNumber, customer: string | null) {
  const card = TEST_CARDS[number];
  const method = store.put({
    id: stripeId('pm'),
    object: 'payment_method',
    type: 'card',
    customer,
    created: unixNow(),
    card: { brand: card.brand, last4: card.last4, exp_month: 12, exp_year: new Date().getFullYear() + 3 },
    billing_details: { email: null, name: null },
    metadata: {},
  });
  store.cards.set(method.id, number);
  return method;
}

interface ChargeInput {
  amount: number;
  currency: string;
  customer: string | null;
  paymentMethod: StripeObject;
  metadata: Record<string, string>;
  description: string | null;
  setupFutureUsage: string | null;
  offSession: boolean;
}

/**
 * Confirms a PaymentIntent against a test card, as Stripe's test mode would: a success creates the
 * charge and emits `payment_intent.succeeded`; a decline leaves the intent needing a payment method,
 * emits `payment_intent.payment_failed` and throws the card error the API returns (402).
 */
export function chargeCard(
  store: StripeStore,
  sender: EventSender,
  input: ChargeInput,
  request: RequestInfo,
) {
  const card = store.cards.get(input.paymentMethod.id) ?? '4242424242424242';
  const behaviour = TEST_CARDS[card].behaviour;
  const declined = behaviour === 'declined' || (behaviour === 'declines_off_session' && input.offSession);
  const intent = store.put({
    id: stripeId('pi'),
    object: 'payment_intent',
    amount: input.amount,
    amount_received: declined ? 0 : input.amount,
    currency: input.currency,
    customer: input.customer,
    description: input.description,
    metadata: input.metadata,
    payment_method: input.paymentMethod.id,
    setup_future_usage: input.setupFutureUsage,
    status: declined ? 'requires_payment_method' : 'succeeded',
    created: unixNow(),
    latest_charge: null as string | null,
    last_payment_error: null as Record<string, unknown> | null,
    livemode: false,
  });
  if (declined) {
    const error = {
      type: 'card_error',
      code: behaviour === 'declined' ? 'card_declined' : 'authentication_required',
      decline_code: behaviour === 'declined' ? 'generic_decline' : 'authentication_required',
      message:
        behaviour === 'declined'
          ? 'Your card was declined.'
          : 'This payment requires authentication; the customer must be on session to confirm it.',
      payment_method: input.paymentMethod,
    };
    intent.last_payment_error = error;
    store.put(intent);
    sender.emit('payment_intent.payment_failed', intent, request);
    const { type, message, ...extra } = error;
    throw new StripeApiError(402, type, message, { ...extra, payment_intent: intent });
  }
  const charge = store.put({
    id: stripeId('ch'),
    object: 'charge',
    amount: input.amount,
    amount_captured: input.amount,
    amount_refunded: 0,
    currency: input.currency,
    customer: input.customer,
    // Charges carry the metadata their PaymentIntent had when it was confirmed.
    metadata: input.metadata,
    paid: true,
    payment_intent: intent.id,
    payment_method: input.paymentMethod.id,
    refunded: false,
    disputed: false,
    status: 'succeeded',
    created: unixNow(),
  });
  intent.latest_charge = charge.id;
  store.put(intent);
  sender.emit('payment_intent.succeeded', intent, request);
  if (behaviour === 'disputed') {
    const dispute = store.put({
      id: stripeId('dp'),
      object: 'dispute',
      amount: input.amount,
      currency: input.currency,
      charge: charge.id,
      payment_intent: intent.id,
      reason: 'fraudulent',
      status: 'needs_response',
      created: unixNow(),
      metadata: {},
    });
    charge.disputed = true;
    store.put(charge);
    sender.emit('charge.dispute.created', dispute, request);
  }
  return intent;
}

/** Refunds all or part of a charge; `charge.refunded` carries the cumulative `amount_refunded`. */
export function refundCharge(
  store: StripeStore,
  sender: EventSender,
  charge: StripeObject,
  amount: number | undefined,
  request: RequestInfo,
) {
  const remaining = Number(charge.amount) - Number(charge.amount_refunded);
  const refunded = amount ?? remaining;
  if (!Number.isInteger(refunded) || refunded <= 0 || refunded > remaining) {
    throw new StripeApiError(
      400,
      'invalid_request_error',
      `Refund amount (${refunded}) is greater than unrefunded amount on charge (${remaining})`,
      { param: 'amount', code: 'amount_too_large' },
    );
  }
  const refund = store.put({
    id: stripeId('re'),
    object: 'refund',
    amount: refunded,
    charge: charge.id,
    currency: charge.currency,
    payment_intent: charge.payment_intent,
    status: 'succeeded',
    created: unixNow(),
    metadata: {},
  });
  charge.amount_refunded = Number(charge.amount_refunded) + refunded;
  charge.refunded = charge.amount_refunded === charge.amount;
  store.put(charge);
  sender.emit('charge.refunded', charge, request);
  return refund;
}
