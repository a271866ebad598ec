import Stripe from 'stripe';
import { DependencyUnavailableError } from '../../core/errors.ts';
import type { EdgeConfig } from '../../env.ts';

export type StripeClient = Stripe;

/** The webhook's verifier: Web Crypto, the only HMAC workerd has (the sync Node one throws there). */
export const webhookCrypto = Stripe.createSubtleCryptoProvider();

const clients = new Map<string, Stripe>();

/**
 * The Stripe SDK over fetch (workerd has no Node http). `STRIPE_API_URL` points it at the local Stripe
 * of `npm run dev` and the tests; production talks to api.stripe.com. One client per key and address
 * per isolate: it keeps no per-request state.
 */
export function createStripe(config: Pick<EdgeConfig, 'STRIPE_SECRET_KEY' | 'STRIPE_API_URL'>): Stripe {
  const cacheKey = `${config.STRIPE_SECRET_KEY}@${config.STRIPE_API_URL ?? ''}`;
  const cached = clients.get(cacheKey);
  if (cached) return cached;
  const local = config.STRIPE_API_URL ? new URL(config.STRIPE_API_URL) : null;
  const client = new Stripe(config.STRIPE_SECRET_KEY, {
    httpClient: Stripe.createFetchHttpClient(),
    // Retries reuse the request's idempotency key, so a retried charge is never a second charge.
    maxNetworkRetries: 2,
    timeout: 15_000,
    appInfo: { name: 'AI Cloud' },
    ...(local
      ? {
          host: local.hostname,
          port: Number(local.port || (local.protocol === 'https:' ? 443 : 80)),
          protocol: local.protocol.replace(':', '') as 'http' | 'https',
        }
      : {}),
  });
  clients.set(cacheKey, client);
  return client;
}

/**
 * Stripe being down or slow is the platform's 503 (retry shortly), not a 500. Card declines and
 * invalid requests pass through for the caller to handle.
 */
export async function callStripe<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    const unavailable =
      error instanceof Stripe.errors.StripeConnectionError ||
      error instanceof Stripe.errors.StripeAPIError ||
      error instanceof Stripe.errors.StripeRateLimitError ||
      (error instanceof Stripe.errors.StripeError && (error.statusCode ?? 0) >= 500);
    if (unavailable) throw new DependencyUnavailableError('stripe', { cause: error });
    throw error;
  }
}

export const isCardError = (error: unknown): error is Stripe.errors.StripeCardError =>
  error instanceof Stripe.errors.StripeCardError;

/** Stripe refused the request itself, not the card (the card was removed, the customer deleted). */
export const isRefusedRequest = (error: unknown): error is Stripe.errors.StripeInvalidRequestError =>
  error instanceof Stripe.errors.StripeInvalidRequestError;

/** An idempotency key sent again with other parameters: Stripe did nothing under it this time. */
export const isIdempotencyConflict = (error: unknown): error is Stripe.errors.StripeIdempotencyError =>
  error instanceof Stripe.errors.StripeIdempotencyError;
