import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStripe, startLocalStripe } from '../../dev/stripe/server.ts';
import { createStripe } from '../../functions/lib/billing/stripe.ts';

const KEY = 'sk_test_localconformance0000';
const SECRET = 'whsec_conformanceconformance00';

/** The production Stripe client against the local Stripe: the SDK's own error classes, keys and retries. */
describe('local Stripe (the stripe SDK unchanged)', () => {
  let stripe: LocalStripe;
  let client: Stripe;
  const received: { signature: string; body: string }[] = [];
  const endpoint = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ signature: String(request.headers['stripe-signature']), body });
      // The first delivery fails: Stripe (and the local one) deliver again.
      response.writeHead(received.length === 1 ? 500 : 200).end();
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    const { port } = endpoint.address() as AddressInfo;
    stripe = await startLocalStripe({
      port: 0,
      secretKey: KEY,
      webhook: {
        url: `http://127.0.0.1:${port}/hook`,
        secret: SECRET,
        enabledEvents: ['payment_intent.succeeded'],
      },
    });
    client = createStripe({ STRIPE_SECRET_KEY: KEY, STRIPE_API_URL: stripe.url });
  });
  afterAll(async () => {
    await stripe.close();
    endpoint.close();
  });

  it('refuses a wrong key with StripeAuthenticationError', async () => {
    const wrong = createStripe({ STRIPE_SECRET_KEY: 'sk_test_wrongwrongwrong', STRIPE_API_URL: stripe.url });
    await expect(wrong.customers.create({})).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });

  it('answers unknown objects and bad params as Stripe does', async () => {
    const missing = await client.customers.retrieve('cus_nothere').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({ code: 'resource_missing', statusCode: 404 });
    const noItems = await client.checkout.sessions
      .create({ mode: 'payment', success_url: 'https://example.com' })
      .catch((error: unknown) => error);
    expect(noItems).toMatchObject({ type: 'StripeInvalidRequestError', param: 'line_items' });
  });

  it('replays a keyed request and refuses the key for different parameters', async () => {
    const first = await client.customers.create({ name: 'A' }, { idempotencyKey: 'conformance-1' });
    const again = await client.customers.create({ name: 'A' }, { idempotencyKey: 'conformance-1' });
    expect(again.id).toBe(first.id);
    const other = await client.customers
      .create({ name: 'B' }, { idempotencyKey: 'conformance-1' })
      .catch((error: unknown) => error);
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it('checks out with a test card, saves it, charges it off-session and signs the events it delivers', async () => {
    const customer = await client.customers.create({ metadata: { org_id: 'org_x' } });
    const session = await client.checkout.sessions.create({
      mode: 'payment',
      customer: customer.id,
      line_items: [
        { quantity: 1, price_data: { currency: 'usd', unit_amount: 2500, product_data: { name: 'Credit' } } },
      ],
      payment_intent_data: { setup_future_usage: 'off_session', metadata: { payment_id: 'pay_1' } },
      success_url: 'https://example.com/ok?session={CHECKOUT_SESSION_ID}',
    });
    const paid = await fetch(`${session.url}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'card=4000000000000341',
      redirect: 'manual',
    });
    expect(paid.headers.get('location')).toBe(`https://example.com/ok?session=${session.id}`);
    const completed = await client.checkout.sessions.retrieve(session.id);
    expect(completed).toMatchObject({ status: 'complete', payment_status: 'paid' });
    const cards = await client.customers.listPaymentMethods(customer.id, { type: 'card' });
    expect(cards.data.map((card) => card.card?.last4)).toEqual(['0341']);

    // This card asks for authentication off-session: the SDK raises a StripeCardError with the intent.
    const declined = await client.paymentIntents
      .create({
        amount: 5000,
        currency: 'usd',
        customer: customer.id,
        payment_method: cards.data[0]?.id ?? '',
        off_session: true,
        confirm: true,
      })
      .catch((error: unknown) => error);
    expect(declined).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect((declined as Stripe.errors.StripeCardError).payment_intent?.status).toBe(
      'requires_payment_method',
    );

    // The subscribed event arrived signed with the endpoint secret, again after a failed delivery.
    for (let attempt = 0; attempt < 50 && received.length < 2; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(received).toHaveLength(2);
    const event = await client.webhooks.constructEventAsync(
      received[1]?.body ?? '',
      received[1]?.signature ?? '',
      SECRET,
    );
    expect(event.type).toBe('payment_intent.succeeded');
    expect((event.data.object as Stripe.PaymentIntent).metadata).toEqual({ payment_id: 'pay_1' });
  });
});
