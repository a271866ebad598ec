import Stripe from 'stripe';
import { inject } from 'vitest';
import { call, env } from './edge.ts';

/** The local Stripe of the test cloud: its API (through the real SDK), pages and recorded traffic. */
export const stripeUrl = inject('stripeUrl');
const key = env.STRIPE_SECRET_KEY ?? '';
const local = new URL(stripeUrl);
/** The SDK as an operator's script would use it (refunds are made from Stripe's side). */
export const stripeAdmin = new Stripe(key, {
  host: local.hostname,
  port: Number(local.port),
  protocol: 'http',
  httpClient: Stripe.createFetchHttpClient(),
});

export interface RecordedRequest {
  method: string;
  path: string;
  params: Record<string, unknown>;
  idempotencyKey: string | null;
  stripeVersion: string | null;
}

const authorized = { authorization: `Bearer ${key}` };

export async function stripeRequests(): Promise<RecordedRequest[]> {
  const response = await fetch(`${stripeUrl}/_requests`, { headers: authorized });
  return ((await response.json()) as { data: RecordedRequest[] }).data;
}

export async function stripeEventLog(): Promise<Stripe.Event[]> {
  const response = await fetch(`${stripeUrl}/_events`, { headers: authorized });
  return ((await response.json()) as { data: Stripe.Event[] }).data;
}

/** Pays a checkout page with a test card, as a person would; answers with the page's status. */
export async function payCheckout(checkoutUrl: string, card = '4242424242424242') {
  const response = await fetch(`${checkoutUrl}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ card }),
    redirect: 'manual',
  });
  return { status: response.status, location: response.headers.get('location'), html: await response.text() };
}

const signer = new Stripe('sk_test_signer');

/** A `Stripe-Signature` header for `payload`, with the webhook secret unless told another. */
export const signature = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
  signer.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: options.secret ?? env.STRIPE_WEBHOOK_SECRET ?? '',
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });

/** Posts an event to the webhook route signed as Stripe signs it (or with another secret / time). */
export async function deliver(event: unknown, options: { secret?: string; timestamp?: number } = {}) {
  const payload = JSON.stringify(event);
  const header = await signature(payload, options);
  return call('POST', '/api/stripe/webhook', {
    body: payload,
    headers: { 'stripe-signature': header, 'content-type': 'application/json; charset=utf-8' },
  });
}

/**
 * Route tests run the app in-process, where the local Stripe cannot reach it: this relays the events
 * that happened since `seen` (event ids) to the webhook route, as Stripe's delivery would.
 */
export async function relayEvents(seen: Set<string>, types?: string[]) {
  const delivered: { type: string; status: number; outcome: string }[] = [];
  for (const event of await stripeEventLog()) {
    if (seen.has(event.id) || (types && !types.includes(event.type))) continue;
    seen.add(event.id);
    const response = await deliver(event);
    delivered.push({ type: event.type, status: response.status, outcome: response.body?.outcome });
  }
  return delivered;
}

const relayed = new Set<string>();

/** Adds funds the way a user does (Checkout, card, webhook); answers with the balance after. */
export async function addFunds(
  token: string,
  dollars: number,
  options: { org?: string; card?: string } = {},
): Promise<number> {
  const { org, card } = options;
  const checkout = await call('POST', '/api/billing/add-funds', {
    token,
    org,
    body: { amount_cents: Math.round(dollars * 100) },
  });
  if (checkout.status !== 201) throw new Error(`add-funds failed: ${JSON.stringify(checkout.body)}`);
  const paid = await payCheckout(checkout.body.checkout_url, card);
  if (paid.status !== 303) throw new Error(`checkout failed (${paid.status})`);
  await relayEvents(relayed);
  const balance = await call('GET', '/api/billing/balance', { token, org });
  return balance.body.balance_usd;
}
