import Stripe from 'stripe';
import { addFunds, api, balanceUsd } from '../bench/account.ts';
import type { RunningStack } from '../bench/stacks.ts';
import { shuffle } from './verdict.ts';

interface StatementLine {
  id: string;
  kind: string;
  amount_usd: number;
}

const signer = new Stripe('sk_test_signer_only');

async function statement(stack: RunningStack, token: string): Promise<StatementLine[]> {
  return (
    await api<{ data: StatementLine[] }>(
      stack,
      'GET',
      '/api/billing/transactions?limit=100',
      undefined,
      token,
    )
  ).data;
}

/** Delivers one event to the edge's webhook as Stripe does, signed; Stripe retries a 503 later. */
async function deliver(stack: RunningStack, event: unknown): Promise<number> {
  const payload = JSON.stringify(event);
  for (let attempt = 1; ; attempt++) {
    const header = await signer.webhooks.generateTestHeaderStringAsync({
      payload,
      secret: stack.secrets.stripeWebhookSecret,
    });
    const response = await fetch(`${stack.edge}/api/stripe/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header },
      body: payload,
    });
    await response.arrayBuffer();
    if (response.status !== 503 || attempt === 5) return response.status;
    await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
}

/**
 * Payments through the local Checkout, then every event the local Stripe ever sent delivered again,
 * twice each, in shuffled order: the balance and the statement must stay exactly as they were.
 * Runs before any deployment exists, so no usage moves the balance meanwhile.
 */
export async function stripeReplay(stack: RunningStack, token: string, payments: number[]) {
  let expected = await balanceUsd(stack, token);
  for (const dollars of payments) {
    expected += dollars;
    await addFunds(stack, token, dollars);
  }
  const before = { balance: await balanceUsd(stack, token), lines: await statement(stack, token) };
  const events = (
    (await (
      await fetch(`${stack.stripeUrl}/_events`, {
        headers: { authorization: `Bearer ${stack.secrets.stripeSecretKey}` },
      })
    ).json()) as { data: unknown[] }
  ).data;
  const statuses = new Map<number, number>();
  for (const event of shuffle([...events, ...events])) {
    const status = await deliver(stack, event);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  const after = { balance: await balanceUsd(stack, token), lines: await statement(stack, token) };
  const sameLines =
    JSON.stringify(after.lines.map((line) => [line.id, line.amount_usd])) ===
    JSON.stringify(before.lines.map((line) => [line.id, line.amount_usd]));
  const cents = (usd: number) => Math.round(usd * 100);
  const passed =
    cents(before.balance) === cents(expected) && cents(after.balance) === cents(expected) && sameLines;
  const answered = [...statuses].map(([status, count]) => `${count}×${status}`).join(', ');
  return {
    passed,
    detail:
      `${payments.length} payments, then ${events.length} events delivered twice shuffled (answers ${answered}); ` +
      `balance $${after.balance.toFixed(2)}, expected $${expected.toFixed(2)}; ` +
      `statement ${sameLines ? 'unchanged' : 'CHANGED'} (${after.lines.length} lines)`,
  };
}
