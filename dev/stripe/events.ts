import Stripe from 'stripe';
import { type StripeObject, stripeId, unixNow } from './store.ts';

export interface WebhookEndpoint {
  url: string;
  secret: string;
  /** Event types the endpoint is subscribed to, as in Stripe's dashboard; others are not sent. */
  enabledEvents: readonly string[];
}

export interface Delivery {
  event: StripeObject;
  attempts: number;
  /** The endpoint's last answer (status), or the network error. */
  lastResult: string | null;
  delivered: boolean;
}

/** Stripe retries a failed delivery with growing delays; the stand-in compresses days into seconds. */
const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000];
const API_VERSION = '2025-10-29.clover';
const signer = new Stripe('sk_test_signer');

/**
 * Sends events to the platform's webhook route exactly as Stripe does: a JSON event body with a
 * `Stripe-Signature` header (HMAC-SHA256 over `timestamp.payload` with the endpoint secret), retried
 * until the endpoint answers 2xx.
 */
export class EventSender {
  /** Every event that happened, delivered or not (newest last). */
  readonly events: StripeObject[] = [];
  readonly deliveries: Delivery[] = [];
  private timers = new Set<NodeJS.Timeout>();

  private readonly endpoint: WebhookEndpoint | null;
  private readonly log: (line: string) => void;

  constructor(endpoint: WebhookEndpoint | null, log: (line: string) => void = () => {}) {
    this.endpoint = endpoint;
    this.log = log;
  }

  emit(type: string, object: StripeObject, request: { id: string | null; idempotencyKey: string | null }) {
    const event: StripeObject = {
      id: stripeId('evt'),
      object: 'event',
      api_version: API_VERSION,
      created: unixNow(),
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: request.id, idempotency_key: request.idempotencyKey },
      type,
    };
    this.events.push(event);
    if (this.events.length > 1_000) this.events.shift();
    if (!this.endpoint?.enabledEvents.includes(type)) return event;
    const delivery: Delivery = { event, attempts: 0, lastResult: null, delivered: false };
    this.deliveries.push(delivery);
    this.schedule(delivery, 0);
    return event;
  }

  private schedule(delivery: Delivery, delayMs: number) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery);
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(delivery: Delivery) {
    const endpoint = this.endpoint;
    if (!endpoint) return;
    delivery.attempts++;
    const payload = JSON.stringify(delivery.event, null, 2);
    const header = await signer.webhooks.generateTestHeaderStringAsync({ payload, secret: endpoint.secret });
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header },
        body: payload,
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      delivery.lastResult = String(response.status);
      delivery.delivered = response.ok;
    } catch (error) {
      delivery.lastResult = (error as Error).message;
    }
    if (delivery.delivered) return;
    const delay = RETRY_DELAYS_MS[delivery.attempts - 1];
    if (delay === undefined) {
      this.log(
        `stripe: gave up delivering ${delivery.event.type} ${delivery.event.id}: ${delivery.lastResult}`,
      );
      return;
    }
    this.schedule(delivery, delay);
  }

  stop() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
