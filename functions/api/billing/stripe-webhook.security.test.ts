import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payments, stripeEvents } from '../../../db/schema/index.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import { deliver, signature } from '../../../tests/harness/stripe.ts';
import { newId } from '../../core/ids.ts';

const database = testDatabase();
let token: string;
let orgId: string;
let paymentId: string;

/** A well-formed, paid checkout event for a real pending payment: only its signature decides. */
const checkoutEvent = () => ({
  id: newId('request').replace('req_', 'evt_'),
  object: 'event',
  type: 'checkout.session.completed',
  created: Math.floor(Date.now() / 1000),
  data: {
    object: {
      id: `cs_test_${paymentId}`,
      object: 'checkout.session',
      amount_total: 100_000,
      currency: 'usd',
      payment_status: 'paid',
      payment_intent: 'pi_forged',
      metadata: { org_id: orgId, payment_id: paymentId, kind: 'checkout' },
    },
  },
});

const unchanged = async (eventId: string) => {
  expect(await database.db.select().from(stripeEvents).where(eq(stripeEvents.id, eventId))).toEqual([]);
  expect((await call('GET', '/api/billing/balance', { token })).body.balance_usd).toBe(0);
  const [payment] = await database.db.select().from(payments).where(eq(payments.id, paymentId));
  expect(payment?.state).toBe('pending');
};

beforeAll(async () => {
  token = (await signUp('stripe-forgery')).token;
  orgId = (await call('GET', '/api/auth/me', { token })).body.org_id;
  paymentId = newId('payment');
  await database.db
    .insert(payments)
    .values({ id: paymentId, orgId, kind: 'checkout', amountMicroUsd: 1_000_000_000 });
});
afterAll(() => database.close());

describe('the Stripe webhook refuses what Stripe did not sign', () => {
  it('refuses an event signed with another secret', async () => {
    const event = checkoutEvent();
    const forged = await deliver(event, { secret: 'whsec_attackerattackerattacker' });
    expect(forged.status).toBe(400);
    expect(forged.body.error).toMatchObject({ type: 'invalid_request_error', param: 'stripe-signature' });
    expect(forged.body.error.message).toMatch(/Invalid Stripe signature/);
    await unchanged(event.id);
  });

  it('refuses a replayed delivery whose signature is older than five minutes', async () => {
    const event = checkoutEvent();
    const stale = await deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(stale.status).toBe(400);
    expect(stale.body.error.message).toMatch(/tolerance/i);
    await unchanged(event.id);
  });

  it('refuses a body changed after signing, and a request without a signature', async () => {
    const event = checkoutEvent();
    const signedFor = JSON.stringify({
      ...event,
      data: { object: { ...event.data.object, amount_total: 100 } },
    });
    const header = await signature(signedFor);
    const tampered = await call('POST', '/api/stripe/webhook', {
      body: JSON.stringify(event),
      headers: { 'stripe-signature': header },
    });
    expect(tampered.status).toBe(400);
    const unsigned = await call('POST', '/api/stripe/webhook', { body: event });
    expect(unsigned.status).toBe(400);
    expect(unsigned.body.error.message).toBe('Missing Stripe-Signature header.');
    await unchanged(event.id);
  });

  it('acknowledges a signed event of a type it does not handle, moving nothing', async () => {
    // Anything but a 2xx makes Stripe retry for days and then disable the endpoint.
    const event = { ...checkoutEvent(), type: 'customer.subscription.deleted' };
    const unknown = await deliver(event);
    expect(unknown.status).toBe(200);
    expect(unknown.body.outcome).toBe('ignored: customer.subscription.deleted is not handled here');
    await unchanged(event.id);
  });

  it('ignores a refund of a charge made outside the platform, instead of asking Stripe to retry forever', async () => {
    const event = {
      ...checkoutEvent(),
      type: 'charge.refunded',
      data: {
        object: {
          id: 'ch_elsewhere',
          object: 'charge',
          amount: 5000,
          amount_refunded: 5000,
          currency: 'usd',
          customer: 'cus_not_ours',
          payment_intent: 'pi_elsewhere',
          metadata: {},
        },
      },
    };
    const refund = await deliver(event);
    expect(refund.status).toBe(200);
    expect(refund.body.outcome).toBe('ignored: not a charge of this platform');
    expect((await call('GET', '/api/billing/balance', { token })).body.balance_usd).toBe(0);
  });

  it('ignores a signed event about a payment of another org, and moves no money', async () => {
    const event = checkoutEvent();
    event.data.object.metadata.org_id = newId('org');
    const other = await deliver(event);
    expect(other.status).toBe(200);
    expect(other.body.outcome).toBe('ignored: not a checkout started by this platform');
    expect((await call('GET', '/api/billing/balance', { token })).body.balance_usd).toBe(0);
  });
});
