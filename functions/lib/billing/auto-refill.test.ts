import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingAccounts, payments } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { insertEndpoint, insertMeteredReplica, testDatabase } from '../../../tests/harness/db.ts';
import { call, outbox, type SignedInUser, signUp } from '../../../tests/harness/edge.ts';
import { addFunds, relayEvents, stripeAdmin, stripeRequests } from '../../../tests/harness/stripe.ts';
import { orgAccount, PLATFORM_ACCOUNTS, postTransaction } from '../../core/billing/ledger.ts';
import { newId } from '../../core/ids.ts';
import { refillDueOrgs } from './auto-refill.ts';
import { meterReplicas } from './meter.ts';

const database = testDatabase();
afterAll(() => database.close());

const MINUTE = 60_000;
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 24 * 60 * MINUTE;
let now = T0;
const { ctx, settle } = testContext(database.db, { now: () => new Date(now) });
const seen = new Set<string>();

interface Org {
  user: SignedInUser;
  orgId: string;
}

async function orgWithCard(label: string, card: string): Promise<Org> {
  const user = await signUp(label);
  const orgId = (await call('GET', '/api/auth/me', { token: user.token })).body.org_id;
  await addFunds(user.token, 25, { card });
  const settings = await call('PUT', '/api/billing/settings', {
    token: user.token,
    body: {
      auto_refill: { enabled: true, threshold_cents: 2000, amount_cents: 5000 },
      alert_thresholds_cents: [1000, 0],
    },
  });
  expect(settings.status).toBe(200);
  return { user, orgId };
}

/** A replica of the org that ran `minutes` at $36/hour ($0.60 a minute) and was released just now. */
async function ran({ orgId }: Org, minutes: number) {
  const endpointId = await insertEndpoint(database.db, orgId);
  await insertMeteredReplica(database.db, {
    orgId,
    endpointId,
    pricePerHourMicroUsd: 36_000_000,
    activeAt: new Date(now - minutes * MINUTE),
    releasedAt: new Date(now),
  });
}

const customerOf = async ({ orgId }: Org) => {
  const [account] = await database.db.select().from(billingAccounts).where(eq(billingAccounts.orgId, orgId));
  return account?.stripeCustomerId ?? '';
};
const balanceOf = async ({ user }: Org) =>
  (await call('GET', '/api/billing/balance', { token: user.token })).body.balance_usd as number;
const refillsOf = ({ orgId }: Org) =>
  database.db
    .select()
    .from(payments)
    .where(and(eq(payments.orgId, orgId), eq(payments.kind, 'auto_refill')));
const meter = async () => {
  await meterReplicas(ctx);
  await settle();
};

let saved: Org;
let declining: Org;

beforeAll(async () => {
  saved = await orgWithCard('auto-refill', '4242424242424242');
  declining = await orgWithCard('auto-refill-declined', '4000000000000341');
});

describe('auto-refill', () => {
  it('charges the saved card off-session when usage takes the balance under the threshold', async () => {
    now += 10 * MINUTE;
    await ran(saved, 10);
    await meter();
    // Credited as soon as Stripe answers the charge succeeded: $25 − $6 + $50.
    expect(await balanceOf(saved)).toBe(69);

    const [refill] = await refillsOf(saved);
    expect(refill).toMatchObject({ state: 'succeeded', amountMicroUsd: 50_000_000 });
    const sent = (await stripeRequests()).filter(
      (request) => request.idempotencyKey === `refill:${refill?.id}`,
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      method: 'POST',
      path: '/v1/payment_intents',
      params: {
        amount: '5000',
        currency: 'usd',
        off_session: 'true',
        confirm: 'true',
        metadata: { org_id: saved.orgId, payment_id: refill?.id, kind: 'auto_refill' },
      },
    });
    expect(sent[0]?.params.payment_method).toMatch(/^pm_/);

    // Stripe's webhook for the same charge credits nothing more.
    await relayEvents(seen);
    expect(await balanceOf(saved)).toBe(69);
    const statement = await call('GET', '/api/billing/transactions?limit=1', { token: saved.user.token });
    expect(statement.body.data[0]).toMatchObject({ kind: 'auto_refill', amount_usd: 50 });
  });

  it('charges at most once an hour however fast the balance drains, and warns once per level', async () => {
    now += 1 * MINUTE;
    await ran(saved, 100);
    await meter();
    expect(await balanceOf(saved)).toBe(9);
    await meter();
    expect(await refillsOf(saved)).toHaveLength(1);
    const warnings = (await outbox(saved.user.email)).filter((email) =>
      email.subject.includes('below $10.00'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.text).toContain('is $9.00');

    // An hour later the next drain may refill again.
    now += 61 * MINUTE;
    await ran(saved, 1);
    await meter();
    expect(await refillsOf(saved)).toHaveLength(2);
  });

  it('tells the billing contacts when the card is declined, credits nothing and turns auto-refill off', async () => {
    await ran(declining, 10);
    await meter();
    await relayEvents(seen);
    await settle();
    expect(await balanceOf(declining)).toBe(19);
    const [refill] = await refillsOf(declining);
    expect(refill?.state).toBe('failed');
    expect(refill?.failureMessage).toMatch(/authentication/);
    const failed = (await outbox(declining.user.email)).filter((email) =>
      email.subject.includes('auto-refill of $50.00 failed'),
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]?.text).toContain('Auto-refill is now off');
    const settings = await call('GET', '/api/billing/settings', { token: declining.user.token });
    expect(settings.body.auto_refill.enabled).toBe(false);

    // Not within the hour, nor after it: the declined card is not tried again.
    await ran(declining, 5);
    await meter();
    now += 61 * MINUTE;
    await ran(declining, 5);
    await meter();
    expect(await refillsOf(declining)).toHaveLength(1);
  });

  it('charges at once when turned back on after a decline, not an hour after it', async () => {
    const user = await signUp('auto-refill-again');
    const org: Org = { user, orgId: (await call('GET', '/api/auth/me', { token: user.token })).body.org_id };
    await addFunds(user.token, 25, { card: '4000000000000341' });
    await database.db.insert(payments).values({
      id: newId('payment'),
      orgId: org.orgId,
      kind: 'auto_refill',
      amountMicroUsd: 50_000_000,
      state: 'failed',
      failureMessage: 'Your card was declined.',
      createdAt: new Date(Date.now() - 5 * MINUTE),
    });
    // Turned back on (with a new card, say): the charge is tried now. This card declines again, so
    // auto-refill is off again, and the answer says so.
    const again = await call('PUT', '/api/billing/settings', {
      token: user.token,
      body: { auto_refill: { enabled: true, threshold_cents: 5000, amount_cents: 5000 } },
    });
    expect(again.status).toBe(200);
    expect(await refillsOf(org)).toHaveLength(2);
    expect(again.body.auto_refill.enabled).toBe(false);
  });

  it('charges at once when turned on under the threshold, and the minute sweep refills an idle org', async () => {
    const user = await signUp('auto-refill-idle');
    const idle: Org = { user, orgId: (await call('GET', '/api/auth/me', { token: user.token })).body.org_id };
    await addFunds(user.token, 25);
    const turnedOn = await call('PUT', '/api/billing/settings', {
      token: user.token,
      body: { auto_refill: { enabled: true, threshold_cents: 3000, amount_cents: 5000 } },
    });
    expect(turnedOn.status).toBe(200);
    expect(await refillsOf(idle)).toHaveLength(1);
    await relayEvents(seen);
    expect(await balanceOf(idle)).toBe(75);

    // Spent down with nothing running (no usage left to meter), an hour later: the sweep refills it.
    await database.db.transaction((tx) =>
      postTransaction(tx, {
        kind: 'usage',
        idempotencyKey: `${idle.orgId}:drain`,
        description: 'GPU time',
        lines: [
          { orgId: idle.orgId, account: orgAccount(idle.orgId), amountMicroUsd: -75_000_000 },
          { orgId: null, account: PLATFORM_ACCOUNTS.revenue, amountMicroUsd: 75_000_000 },
        ],
      }),
    );
    const later = testContext(database.db, { now: () => new Date(Date.now() + 61 * MINUTE) });
    await refillDueOrgs(later.ctx);
    expect(await refillsOf(idle)).toHaveLength(2);
    await relayEvents(seen);
    expect(await balanceOf(idle)).toBe(50);
  });

  it('tells the billing contacts when no card is left to charge, and turns auto-refill off', async () => {
    const cardless = await orgWithCard('auto-refill-no-card', '4242424242424242');
    const customer = await customerOf(cardless);
    for (const method of (await stripeAdmin.customers.listPaymentMethods(customer)).data)
      await stripeAdmin.paymentMethods.detach(method.id);
    await ran(cardless, 10);
    await meter();
    const [refill] = await refillsOf(cardless);
    expect(refill).toMatchObject({ state: 'failed', failureMessage: expect.stringMatching(/No saved card/) });
    const settings = await call('GET', '/api/billing/settings', { token: cardless.user.token });
    expect(settings.body.auto_refill.enabled).toBe(false);
    const notices = (await outbox(cardless.user.email)).filter((email) =>
      email.subject.includes('auto-refill of $50.00 failed'),
    );
    expect(notices).toHaveLength(1);
    expect(notices[0]?.text).toContain('No saved card');
  });

  it('does not retry a charge Stripe refuses to repeat with other parameters, and counts it as the hour’s charge', async () => {
    const org = await orgWithCard('auto-refill-key-reuse', '4242424242424242');
    // A charge whose reply was lost, for another amount under the same key (the settings changed).
    const paymentId = newId('payment');
    const lost = new Date(now - 2 * MINUTE);
    await database.db.insert(payments).values({
      id: paymentId,
      orgId: org.orgId,
      kind: 'auto_refill',
      amountMicroUsd: 50_000_000,
      createdAt: lost,
      updatedAt: lost,
    });
    const customer = await customerOf(org);
    const [card] = (await stripeAdmin.customers.listPaymentMethods(customer)).data;
    await stripeAdmin.paymentIntents.create(
      { amount: 2500, currency: 'usd', customer, payment_method: card?.id, confirm: true, off_session: true },
      { idempotencyKey: `refill:${paymentId}` },
    );
    await ran(org, 10);
    await meter();
    await meter();
    const sent = (await stripeRequests()).filter(
      (request) => request.idempotencyKey === `refill:${paymentId}`,
    );
    expect(sent).toHaveLength(2);
    expect(await refillsOf(org)).toEqual([
      expect.objectContaining({
        id: paymentId,
        state: 'pending',
        failureMessage: expect.stringMatching(/^not retried/),
      }),
    ]);
  });
});
