import { createRoute, z } from '@hono/zod-openapi';
import type Stripe from 'stripe';
import { InvalidRequestError } from '../../core/errors.ts';
import { autoRefillFailedEmail } from '../../core/mail/templates.ts';
import { notifyBilling } from '../../lib/billing/notify.ts';
import { webhookCrypto } from '../../lib/billing/stripe.ts';
import { applyStripeEvent, HANDLED_STRIPE_EVENTS, isHandledEvent } from '../../lib/billing/stripe-events.ts';
import { createRouter } from '../../lib/openapi.ts';
import { jsonResponse, publicErrors } from '../schemas.ts';

/** Stripe's default: a signature older than 5 minutes is refused, so a captured delivery cannot be replayed. */
const SIGNATURE_TOLERANCE_SECONDS = 300;

export const stripeWebhook = createRouter().openapi(
  createRoute({
    method: 'post',
    path: '/webhook',
    tags: ['Billing'],
    summary: "Stripe's webhook (signed events: payments, refunds, disputes)",
    description: `Verified over the raw body with the endpoint's signing secret. Subscribed events: ${HANDLED_STRIPE_EVENTS.join(', ')}.`,
    responses: {
      200: jsonResponse('Received', z.object({ received: z.literal(true), outcome: z.string() })),
      ...publicErrors,
    },
  }),
  async (c) => {
    const ctx = c.get('services');
    const signature = c.req.header('stripe-signature');
    if (!signature) {
      throw new InvalidRequestError('Missing Stripe-Signature header.', { param: 'stripe-signature' });
    }
    // The signature covers the exact bytes Stripe sent, so the body is read raw, never re-serialised.
    const payload = await c.req.text();
    let event: Stripe.Event;
    try {
      event = await ctx.stripe.webhooks.constructEventAsync(
        payload,
        signature,
        ctx.config.STRIPE_WEBHOOK_SECRET,
        SIGNATURE_TOLERANCE_SECONDS,
        webhookCrypto,
      );
    } catch (error) {
      // The SDK's first sentence says what failed; the rest is advice for the integrator.
      const reason = (error as Error).message.split(/(?<=\.)\s|\n/)[0];
      ctx.logger.warn('stripe webhook refused', { reason });
      throw new InvalidRequestError(`Invalid Stripe signature: ${reason}`, {
        param: 'stripe-signature',
      });
    }
    if (!isHandledEvent(event.type)) {
      // Acknowledged, not refused: Stripe retries anything but a 2xx for days and then disables the
      // endpoint, which would stop every credit because one more event type was ticked in its dashboard.
      ctx.logger.warn('stripe event type not handled', { id: event.id, type: event.type });
      return c.json({ received: true as const, outcome: `ignored: ${event.type} is not handled here` }, 200);
    }
    const result = await applyStripeEvent(
      ctx,
      event as Stripe.Event & { type: (typeof HANDLED_STRIPE_EVENTS)[number] },
    );
    ctx.logger.info('stripe event', {
      id: event.id,
      type: event.type,
      outcome: result.outcome,
      detail: result.detail,
    });
    const refill = result.refillFailed;
    if (result.orgId && refill) {
      await notifyBilling(ctx, result.orgId, (to, org) =>
        autoRefillFailedEmail(ctx.config.PUBLIC_URL, to, org, refill.amountMicroUsd, refill.reason),
      );
    }
    return c.json({ received: true as const, outcome: `${result.outcome}: ${result.detail}` }, 200);
  },
);
