import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import { orgAccount, PLATFORM_ACCOUNTS, postTransaction } from '../../core/billing/ledger.ts';

const database = testDatabase();
let token: string;

beforeAll(async () => {
  const owner = await signUp('billing');
  token = owner.token;
  const orgId = (await call('GET', '/api/auth/me', { token })).body.org_id as string;
  const move = (kind: 'top_up' | 'usage', amount: number, key: string, description: string) =>
    database.db.transaction((tx) =>
      postTransaction(tx, {
        kind,
        idempotencyKey: `${orgId}-${key}`,
        description,
        reference: kind === 'usage' ? 'rep_example' : null,
        lines: [
          { orgId, account: orgAccount(orgId), amountMicroUsd: amount },
          {
            orgId: null,
            account: kind === 'top_up' ? PLATFORM_ACCOUNTS.stripe : PLATFORM_ACCOUNTS.revenue,
            amountMicroUsd: -amount,
          },
        ],
      }),
    );
  await move('top_up', 25_000_000, 'pay', 'Added funds');
  await move('usage', -1_234_567, 'use', '=Llama, "70B": GPU time');
});

afterAll(() => database.close());

describe('balance and transactions', () => {
  it('shows the balance', async () => {
    const balance = await call('GET', '/api/billing/balance', { token });
    expect(balance.status).toBe(200);
    expect(balance.body).toMatchObject({
      object: 'balance',
      currency: 'usd',
      balance_usd: 23.765433,
      balance_micro_usd: 23_765_433,
      running_cost_per_hour_usd: 0,
    });
  });

  it('lists movements newest first with the balance each left, page by page', async () => {
    const first = await call('GET', '/api/billing/transactions?limit=1', { token });
    expect(first.body.has_more).toBe(true);
    expect(first.body.data[0]).toMatchObject({
      kind: 'usage',
      description: '=Llama, "70B": GPU time',
      amount_usd: -1.234567,
      balance_after_usd: 23.765433,
      reference: 'rep_example',
    });
    const second = await call('GET', `/api/billing/transactions?limit=1&after=${first.body.data[0].id}`, {
      token,
    });
    expect(second.body).toMatchObject({
      has_more: false,
      data: [{ kind: 'top_up', amount_usd: 25, balance_after_usd: 25 }],
    });
    const bad = await call('GET', '/api/billing/transactions?after=nope', { token });
    expect(bad.status).toBe(400);
  });

  it('downloads them as CSV, quoting and defusing spreadsheet formulas', async () => {
    const csv = await call('GET', '/api/billing/transactions?format=csv', { token });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (csv.body as string).trim().split('\n');
    expect(lines[0]).toBe('date,kind,description,amount_usd,balance_usd,reference,period,transaction_id');
    expect(lines[1]).toMatch(
      /^\d{4}-\d\d-\d\dT[^,]+,usage,"'=Llama, ""70B"": GPU time",-1\.234567,23\.765433,rep_example,,txn_/,
    );
    expect(lines[2]).toMatch(/,top_up,Added funds,25\.000000,25\.000000,,,txn_/);
  });
});
