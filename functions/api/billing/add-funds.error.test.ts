import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payments } from '../../../db/schema/index.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import { stripeRequests } from '../../../tests/harness/stripe.ts';

const database = testDatabase();
let token: string;
let orgId: string;

beforeAll(async () => {
  token = (await signUp('add-funds-errors')).token;
  orgId = (await call('GET', '/api/auth/me', { token })).body.org_id;
});
afterAll(() => database.close());

const refused: [string, unknown, string, RegExp][] = [
  ['below the minimum', { amount_cents: 500 }, 'amount_cents', /at least 1000 \(\$10\.00\)/],
  ['absurdly large', { amount_cents: 1_000_000_000 }, 'amount_cents', /at most 1000000 \(\$10,000\.00\)/],
  ['a fraction of a cent', { amount_cents: 2500.5 }, 'amount_cents', /whole number of cents/],
  ['dollars as a string', { amount_cents: '25' }, 'amount_cents', /number of cents/],
  ['negative', { amount_cents: -2500 }, 'amount_cents', /at least/],
  ['an unknown currency', { amount_cents: 2500, currency: 'eur' }, 'currency', /US dollars/],
  ['an unknown field', { amount_cents: 2500, coupon: 'FREE' }, 'coupon', /Unrecognized request argument/],
  ['no amount', {}, 'amount_cents', /number of cents/],
];

describe('add funds refuses bad amounts before anything reaches Stripe', () => {
  it.each(refused)('refuses %s', async (_label, body, param, message) => {
    const before = (await stripeRequests()).length;
    const response = await call('POST', '/api/billing/add-funds', { token, body });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(response.body.error.message).toMatch(message);
    expect(await database.db.select().from(payments).where(eq(payments.orgId, orgId))).toEqual([]);
    const sent = (await stripeRequests()).slice(before);
    expect(sent.filter((request) => JSON.stringify(request.params).includes(orgId))).toEqual([]);
  });
});

describe('billing settings refuse bad values and keep the old ones', () => {
  it.each([
    [
      'a refill below $10',
      { auto_refill: { enabled: false, threshold_cents: 1000, amount_cents: 100 } },
      'auto_refill.amount_cents',
    ],
    [
      'a fractional threshold',
      { auto_refill: { enabled: false, threshold_cents: 10.5, amount_cents: 5000 } },
      'auto_refill.threshold_cents',
    ],
    ['too many warning levels', { alert_thresholds_cents: [1, 2, 3, 4, 5, 6] }, 'alert_thresholds_cents'],
  ])('refuses %s', async (_label, body, param) => {
    const response = await call('PUT', '/api/billing/settings', { token, body });
    expect(response.status).toBe(400);
    expect(response.body.error.param).toBe(param);
    const settings = await call('GET', '/api/billing/settings', { token });
    expect(settings.body.auto_refill).toEqual({ enabled: false, threshold_cents: 1000, amount_cents: 5000 });
    expect(settings.body.alert_thresholds_cents).toEqual([1000, 0]);
  });

  it('refuses auto-refill without a saved card', async () => {
    const response = await call('PUT', '/api/billing/settings', {
      token,
      body: { auto_refill: { enabled: true, threshold_cents: 1000, amount_cents: 5000 } },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ param: 'auto_refill.enabled' });
    expect(response.body.error.message).toMatch(/saved card/);
  });
});
