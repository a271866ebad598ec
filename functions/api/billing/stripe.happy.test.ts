import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payments, stripeEvents } from '../../../db/schema/index.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import {
  deliver,
  payCheckout,
  relayEvents,
  stripeAdmin,
  stripeEventLog,
  stripeRequests,
} from '../../../tests/harness/stripe.ts';
import { derivedBalance } from '../../core/billing/ledger.ts';

const database = testDatabase();
let token: string;
let orgId: string;
const seen = new Set<string>();

const balanceOf = async () =>
  (await call('GET', '/api/billing/balance', { token })).body.balance_usd as number;

beforeAll(async () => {
  token = (await signUp('stripe')).token;
  orgId = (await call('GET', '/api/auth/me', { token })).body.org_id;
});
afterAll(() => database.close());

describe('adding funds through Stripe Checkout', () => {
  let checkout: { id: string; checkout_url: string };

  it('creates the customer and a checkout session with the SDK, and credits nothing yet', async () => {
    const started = await call('POST', '/api/billing/add-funds', { token, body: { amount_cents: 5000 } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      object: 'checkout',
      status: 'pending',
      amount_cents: 5000,
      currency: 'usd',
    });
    checkout = started.body;
    expect(checkout.checkout_url).toMatch(/\/checkout\/cs_test_/);

    const sent = (await stripeRequests()).filter(
      (request) =>
        (request.path === '/v1/customers' &&
          (request.params.metadata as Record<string, string>)?.org_id === orgId) ||
        (request.path === '/v1/checkout/sessions' &&
          (request.params.metadata as Record<string, string>)?.org_id === orgId),
    );
    expect(sent.map((request) => request.path)).toEqual(['/v1/customers', '/v1/checkout/sessions']);
    const [customer, session] = sent;
    expect(customer?.idempotencyKey).toBe(`customer:${orgId}`);
    expect(session?.idempotencyKey).toBe(`checkout:${checkout.id}`);
    expect(session?.stripeVersion).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(session?.params).toMatchObject({
      mode: 'payment',
      allowed_payment_method_types: ['card'],
      line_items: [{ quantity: '1', price_data: { currency: 'usd', unit_amount: '5000' } }],
      payment_intent_data: {
        setup_future_usage: 'off_session',
        metadata: { payment_id: checkout.id, kind: 'checkout' },
      },
      metadata: { org_id: orgId, payment_id: checkout.id },
    });
    expect(await balanceOf()).toBe(0);
  });

  it('credits the balance once when the signed checkout event arrives, however often it is delivered', async () => {
    const paid = await payCheckout(checkout.checkout_url);
    expect(paid.status).toBe(303);
    expect(paid.location).toContain('/billing?checkout=success');
    const delivered = await relayEvents(seen);
    expect(delivered).toEqual(
      expect.arrayContaining([
        { type: 'payment_intent.succeeded', status: 200, outcome: 'applied: linked' },
        { type: 'checkout.session.completed', status: 200, outcome: 'applied: credited' },
      ]),
    );
    expect(await balanceOf()).toBe(50);

    // Stripe delivers at least once: every event again changes nothing.
    const events = (await stripeEventLog()).filter((event) => seen.has(event.id));
    for (const event of events) {
      const again = await deliver(event);
      expect(again.status).toBe(200);
      expect(again.body.outcome).toBe('duplicate: event already applied');
    }
    expect(await balanceOf()).toBe(50);
    expect(await derivedBalance(database.db, orgId)).toBe(50_000_000);

    const statement = await call('GET', '/api/billing/transactions', { token });
    expect(statement.body.data[0]).toMatchObject({
      kind: 'top_up',
      description: 'Added funds (card)',
      amount_usd: 50,
    });
    const [payment] = await database.db.select().from(payments).where(eq(payments.id, checkout.id));
    expect(payment).toMatchObject({ state: 'succeeded', amountMicroUsd: 50_000_000 });
    expect(payment?.stripePaymentIntentId).toMatch(/^pi_/);
  });

  it('keeps the card for auto-refill and opens the customer portal', async () => {
    const settings = await call('GET', '/api/billing/settings', { token });
    expect(settings.status).toBe(200);
    expect(settings.body.payment_methods).toEqual([
      expect.objectContaining({ brand: 'visa', last4: '4242' }),
    ]);
    expect(settings.body.auto_refill).toEqual({ enabled: false, threshold_cents: 1000, amount_cents: 5000 });

    const enabled = await call('PUT', '/api/billing/settings', {
      token,
      body: {
        auto_refill: { enabled: true, threshold_cents: 2000, amount_cents: 2500 },
        alert_thresholds_cents: [500, 0],
      },
    });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({
      auto_refill: { enabled: true, threshold_cents: 2000, amount_cents: 2500 },
      alert_thresholds_cents: [500, 0],
    });

    const portal = await call('POST', '/api/billing/portal', { token });
    expect(portal.status).toBe(200);
    expect(portal.body.url).toMatch(/\/portal\/bps_/);
    const page = await fetch(portal.body.url);
    expect(await page.text()).toContain('•••• 4242');
  });

  it('takes back refunds (partial ones too) exactly once, in any order', async () => {
    const [payment] = await database.db.select().from(payments).where(eq(payments.id, checkout.id));
    await stripeAdmin.refunds.create({ payment_intent: payment?.stripePaymentIntentId ?? '', amount: 1000 });
    await stripeAdmin.refunds.create({ payment_intent: payment?.stripePaymentIntentId ?? '', amount: 500 });
    const refunds = (await stripeEventLog()).filter(
      (event) => event.type === 'charge.refunded' && !seen.has(event.id),
    );
    expect(refunds).toHaveLength(2);
    // The later (cumulative $15) event first: the earlier ($10) one then has nothing left to take.
    for (const event of [...refunds].reverse()) {
      seen.add(event.id);
      expect((await deliver(event)).status).toBe(200);
    }
    expect(await balanceOf()).toBe(35);
    const [after] = await database.db.select().from(payments).where(eq(payments.id, checkout.id));
    expect(after?.refundedMicroUsd).toBe(15_000_000);
    const recorded = await database.db.select().from(stripeEvents).where(eq(stripeEvents.orgId, orgId));
    expect(recorded.map((row) => row.outcome)).toEqual(
      expect.arrayContaining(['applied: refunded', 'ignored: refund already recorded']),
    );
  });

  it('takes back a disputed payment and stops charging that card automatically', async () => {
    const started = await call('POST', '/api/billing/add-funds', { token, body: { amount_cents: 2500 } });
    expect((await payCheckout(started.body.checkout_url, '4000000000000259')).status).toBe(303);
    const delivered = await relayEvents(seen);
    expect(delivered.map((event) => event.type)).toContain('charge.dispute.created');
    // +$25 credited, −$25 disputed.
    expect(await balanceOf()).toBe(35);
    const [payment] = await database.db.select().from(payments).where(eq(payments.id, started.body.id));
    expect(payment?.state).toBe('disputed');
    const settings = await call('GET', '/api/billing/settings', { token });
    expect(settings.body.auto_refill.enabled).toBe(false);
  });

  it('credits nothing for a declined card', async () => {
    const started = await call('POST', '/api/billing/add-funds', { token, body: { amount_cents: 10000 } });
    const declined = await payCheckout(started.body.checkout_url, '4000000000000002');
    expect(declined.status).toBe(402);
    expect(declined.html).toContain('Your card was declined.');
    await relayEvents(seen);
    expect(await balanceOf()).toBe(35);
    const [payment] = await database.db.select().from(payments).where(eq(payments.id, started.body.id));
    expect(payment).toMatchObject({ state: 'failed', failureMessage: 'Your card was declined.' });
  });
});
