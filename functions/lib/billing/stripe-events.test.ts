import { eq, inArray } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { billingAccounts, orgBalances, orgs, payments } from '../../../db/schema/index.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import { addFunds, deliver, stripeAdmin } from '../../../tests/harness/stripe.ts';
import { derivedBalance } from '../../core/billing/ledger.ts';
import { newId } from '../../core/ids.ts';

const database = testDatabase();
afterAll(() => database.close());

let eventCounter = 0;
const event = (type: string, object: Record<string, unknown>) => ({
  id: `evt_order_${Date.now().toString(36)}_${eventCounter++}`,
  object: 'event',
  type,
  created: Math.floor(Date.now() / 1000),
  data: { object },
});

/**
 * One org's payment history as Stripe reports it: a $50 checkout (later refunded $10, then $30 in
 * all), a $25 auto-refill that is disputed and then won, and a $25 auto-refill the card declined.
 * Expected balance: 50 − 30 + 25 − 25 + 25 = $45.
 */
async function history() {
  const orgId = newId('org');
  await database.db.insert(orgs).values({ id: orgId, name: 'Ordering', slug: orgId.toLowerCase() });
  const customer = `cus_${orgId}`;
  await database.db.insert(billingAccounts).values({ orgId, stripeCustomerId: customer });
  const checkout = newId('payment');
  const refill = newId('payment');
  const declined = newId('payment');
  const refillIntent = `pi_${refill}`;
  await database.db.insert(payments).values([
    { id: checkout, orgId, kind: 'checkout', amountMicroUsd: 50_000_000 },
    // The refill's PaymentIntent id is stored when the charge is made, before any event.
    {
      id: refill,
      orgId,
      kind: 'auto_refill',
      amountMicroUsd: 25_000_000,
      stripePaymentIntentId: refillIntent,
    },
    { id: declined, orgId, kind: 'auto_refill', amountMicroUsd: 25_000_000 },
  ]);
  const meta = (paymentId: string, kind: string) => ({ org_id: orgId, payment_id: paymentId, kind });
  const checkoutIntent = `pi_${checkout}`;
  const charge = (amountRefunded: number) => ({
    id: `ch_${checkout}`,
    object: 'charge',
    amount: 5000,
    amount_refunded: amountRefunded,
    currency: 'usd',
    payment_intent: checkoutIntent,
    customer,
    // No metadata: the refund must be placed through the PaymentIntent the other events link.
    metadata: {},
  });
  const events = [
    event('payment_intent.succeeded', {
      id: checkoutIntent,
      object: 'payment_intent',
      amount: 5000,
      amount_received: 5000,
      currency: 'usd',
      metadata: meta(checkout, 'checkout'),
    }),
    event('checkout.session.completed', {
      id: `cs_test_${checkout}`,
      object: 'checkout.session',
      amount_total: 5000,
      currency: 'usd',
      payment_status: 'paid',
      payment_intent: checkoutIntent,
      metadata: meta(checkout, 'checkout'),
    }),
    event('charge.refunded', charge(1000)),
    event('charge.refunded', charge(3000)),
    event('payment_intent.succeeded', {
      id: refillIntent,
      object: 'payment_intent',
      amount: 2500,
      amount_received: 2500,
      currency: 'usd',
      metadata: meta(refill, 'auto_refill'),
    }),
    event('charge.dispute.created', {
      id: `dp_${refill}`,
      object: 'dispute',
      amount: 2500,
      currency: 'usd',
      charge: `ch_${refill}`,
      payment_intent: refillIntent,
      status: 'needs_response',
    }),
    event('charge.dispute.closed', {
      id: `dp_${refill}`,
      object: 'dispute',
      amount: 2500,
      currency: 'usd',
      charge: `ch_${refill}`,
      payment_intent: refillIntent,
      status: 'won',
    }),
    event('payment_intent.payment_failed', {
      id: `pi_${declined}`,
      object: 'payment_intent',
      amount: 2500,
      amount_received: 0,
      currency: 'usd',
      metadata: meta(declined, 'auto_refill'),
      last_payment_error: { message: 'Your card was declined.' },
    }),
  ];
  return { orgId, events, ids: { checkout, refill, declined } };
}

/** Stripe's delivery: every event until answered 2xx; one answered 503 comes again later. */
async function deliverAll(queue: unknown[]) {
  let deliveries = 0;
  while (queue.length > 0) {
    if (++deliveries > 100) throw new Error('events never settled');
    const next = queue.shift();
    const response = await deliver(next);
    if (response.status === 503) queue.push(next);
    else expect(response.status).toBe(200);
  }
}

describe('Stripe events in any order, duplicated', () => {
  // 25 generated histories of a dozen signed deliveries each: about 18 s alone on 2 cores.
  it('give the same balance and payment states as in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.array(fc.nat({ max: 7 }), { maxLength: 5 }),
        async (seed, duplicated) => {
          const { orgId, events, ids } = await history();
          const sequence = [...events, ...duplicated.map((index) => events[index])];
          // A seeded shuffle: fast-check shrinks the seed and the duplicates on failure.
          const order =
            fc.sample(fc.shuffledSubarray(sequence, { minLength: sequence.length }), {
              seed,
              numRuns: 1,
            })[0] ?? sequence;
          await deliverAll([...order]);
          expect(await derivedBalance(database.db, orgId)).toBe(45_000_000);
          const rows = await database.db
            .select({ id: payments.id, state: payments.state, refunded: payments.refundedMicroUsd })
            .from(payments)
            .where(inArray(payments.id, Object.values(ids)));
          const byId = Object.fromEntries(rows.map((row) => [row.id, row]));
          expect(byId[ids.checkout]).toMatchObject({ state: 'succeeded', refunded: 30_000_000 });
          expect(byId[ids.refill]?.state).toBe('succeeded');
          expect(byId[ids.declined]?.state).toBe('failed');
          const [cached] = await database.db.select().from(orgBalances).where(eq(orgBalances.orgId, orgId));
          expect(cached?.balanceMicroUsd).toBe(45_000_000);
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);
});

/** An org credited $50 by a checkout, and the events Stripe sends about that payment afterwards. */
async function fundedCheckout() {
  const orgId = newId('org');
  await database.db.insert(orgs).values({ id: orgId, name: 'Disputes', slug: orgId.toLowerCase() });
  await database.db.insert(billingAccounts).values({ orgId, stripeCustomerId: `cus_${orgId}` });
  const paymentId = newId('payment');
  await database.db
    .insert(payments)
    .values({ id: paymentId, orgId, kind: 'checkout', amountMicroUsd: 50_000_000 });
  const intent = `pi_${paymentId}`;
  const metadata = { org_id: orgId, payment_id: paymentId, kind: 'checkout' };
  await deliverAll([
    event('payment_intent.succeeded', {
      id: intent,
      object: 'payment_intent',
      amount: 5000,
      amount_received: 5000,
      currency: 'usd',
      metadata,
    }),
    event('checkout.session.completed', {
      id: `cs_test_${paymentId}`,
      object: 'checkout.session',
      amount_total: 5000,
      currency: 'usd',
      payment_status: 'paid',
      payment_intent: intent,
      metadata,
    }),
  ]);
  const dispute = (type: string, status: string) =>
    event(type, {
      id: `dp_${paymentId}`,
      object: 'dispute',
      amount: 5000,
      currency: 'usd',
      charge: `ch_${paymentId}`,
      payment_intent: intent,
      status,
    });
  const refundOf = (cents: number) =>
    event('charge.refunded', {
      id: `ch_${paymentId}`,
      object: 'charge',
      amount: 5000,
      amount_refunded: cents,
      currency: 'usd',
      payment_intent: intent,
      metadata,
    });
  return {
    orgId,
    dispute,
    refund: refundOf(5000),
    refundOf,
    balance: () => derivedBalance(database.db, orgId),
  };
}

describe('disputes', () => {
  it('take nothing for an inquiry, so a refund during it and its closing leave the balance right', async () => {
    const { dispute, refund, balance } = await fundedCheckout();
    expect(await balance()).toBe(50_000_000);
    await deliverAll([dispute('charge.dispute.created', 'warning_needs_response')]);
    expect(await balance()).toBe(50_000_000);
    await deliverAll([refund, dispute('charge.dispute.closed', 'warning_closed')]);
    expect(await balance()).toBe(0);
  });

  it('take an escalated inquiry back once, when Stripe withdraws the funds', async () => {
    const { dispute, balance } = await fundedCheckout();
    await deliverAll([
      dispute('charge.dispute.created', 'warning_needs_response'),
      dispute('charge.dispute.funds_withdrawn', 'needs_response'),
    ]);
    expect(await balance()).toBe(0);
    // A chargeback announced both ways is still taken once; winning it gives it back once.
    await deliverAll([
      dispute('charge.dispute.created', 'needs_response'),
      dispute('charge.dispute.closed', 'won'),
    ]);
    expect(await balance()).toBe(50_000_000);
  });

  it('settle a dispute won on a payment refunded before it (nothing was taken, nothing is given back)', async () => {
    const { dispute, refund, balance } = await fundedCheckout();
    await deliverAll([refund, dispute('charge.dispute.created', 'needs_response')]);
    expect(await balance()).toBe(0);
    // Before, this answered 503 on every delivery: Stripe would have retried it for days.
    await deliverAll([dispute('charge.dispute.closed', 'won')]);
    expect(await balance()).toBe(0);
  });
});

describe('a refund and a dispute of the same payment', () => {
  // Stripe retries a delivery that failed for days, so a refund can arrive after a dispute opened later.
  it.each([
    { refunded: 5000, first: 'refund', outcome: 'lost', balance: 0 },
    { refunded: 5000, first: 'dispute', outcome: 'lost', balance: 0 },
    { refunded: 5000, first: 'refund', outcome: 'won', balance: 0 },
    { refunded: 5000, first: 'dispute', outcome: 'won', balance: 0 },
    { refunded: 2000, first: 'refund', outcome: 'lost', balance: 0 },
    { refunded: 2000, first: 'dispute', outcome: 'lost', balance: 0 },
    { refunded: 2000, first: 'refund', outcome: 'won', balance: 30_000_000 },
    { refunded: 2000, first: 'dispute', outcome: 'won', balance: 30_000_000 },
  ])(
    'take each dollar back once: $refunded cents refunded, $first first, dispute $outcome',
    async (story) => {
      const { dispute, refundOf, balance } = await fundedCheckout();
      const opened = dispute('charge.dispute.created', 'needs_response');
      const refund = refundOf(story.refunded);
      await deliverAll(story.first === 'refund' ? [refund, opened] : [opened, refund]);
      // While the dispute is open all $50 is held, whichever came first.
      expect(await balance()).toBe(0);
      const closed = dispute('charge.dispute.closed', story.outcome);
      await deliverAll([closed, { ...closed, id: `${closed.id}_again` }]);
      expect(await balance()).toBe(story.balance);
    },
  );
});

describe('a refund of a charge this platform did not make', () => {
  it('is ignored, not refused until Stripe gives up, even for a customer of the platform', async () => {
    const user = await signUp('manual-charge');
    await addFunds(user.token, 10);
    const orgId = (await call('GET', '/api/auth/me', { token: user.token })).body.org_id as string;
    const [account] = await database.db
      .select()
      .from(billingAccounts)
      .where(eq(billingAccounts.orgId, orgId));
    const customer = account?.stripeCustomerId ?? '';
    const [card] = (await stripeAdmin.customers.listPaymentMethods(customer)).data;
    // Charged by hand in Stripe's Dashboard: the org's customer and card, none of the platform's metadata.
    const manual = await stripeAdmin.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer,
      payment_method: card?.id ?? '',
      confirm: true,
      off_session: true,
    });
    const refund = event('charge.refunded', {
      id: `ch_manual_${orgId}`,
      object: 'charge',
      amount: 1000,
      amount_refunded: 1000,
      currency: 'usd',
      customer,
      payment_intent: manual.id,
      metadata: {},
    });
    const response = await deliver(refund);
    expect(response.status).toBe(200);
    expect(response.body.outcome).toMatch(/^ignored/);
    expect(await derivedBalance(database.db, orgId)).toBe(10_000_000);
  });
});
