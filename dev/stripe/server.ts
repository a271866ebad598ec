import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import qs from 'qs';
import { closeServer, hasBearerToken, listen, readBody, sendJson } from '../http.ts';
import { type ApiContext, type Params, ROUTES } from './api.ts';
import { EventSender, type WebhookEndpoint } from './events.ts';
import { checkoutPage, type PageResult, payCheckout, portalPage } from './pages.ts';
import { StripeApiError } from './payments.ts';
import { StripeStore, stripeId } from './store.ts';

export interface LocalStripeOptions {
  port: number;
  /** The secret key the platform's Stripe SDK presents. */
  secretKey: string;
  /** The platform's webhook route and signing secret; null sends no events. */
  webhook: WebhookEndpoint | null;
  /** JSON file keeping customers, cards and payments across restarts; memory only when absent. */
  dataFile?: string;
  log?: (line: string) => void;
}

export interface RecordedRequest {
  method: string;
  path: string;
  params: Params;
  idempotencyKey: string | null;
  stripeVersion: string | null;
}

export interface LocalStripe {
  url: string;
  port: number;
  /** Every API request received, oldest first (what tests assert the SDK sent). */
  requests: RecordedRequest[];
  sender: EventSender;
  close(): Promise<void>;
}

const MAX_RECORDED = 1_000;

/**
 * A local Stripe: the subset of the REST API the platform uses (customers, Checkout, PaymentIntents,
 * payment methods, refunds, the billing portal) with Stripe's form encoding, errors and idempotency
 * keys, a checkout page paid with test cards, and signed webhook deliveries with retries. The
 * platform's real `stripe` SDK talks to it unchanged.
 */
export async function startLocalStripe(options: LocalStripeOptions): Promise<LocalStripe> {
  const store = new StripeStore(options.dataFile);
  const sender = new EventSender(options.webhook, options.log);
  const requests: RecordedRequest[] = [];
  const idempotent = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  let baseUrl = '';

  const api = async (request: IncomingMessage, response: ServerResponse, url: URL) => {
    const requestId = stripeId('req', 14);
    const headers = {
      'request-id': requestId,
      'stripe-version': String(request.headers['stripe-version'] ?? ''),
    };
    const fail = (error: StripeApiError) => sendJson(response, error.status, error.body, headers);
    if (!request.headers.authorization) {
      return fail(new StripeApiError(401, 'invalid_request_error', 'You did not provide an API key.'));
    }
    if (!hasBearerToken(request, options.secretKey)) {
      return fail(new StripeApiError(401, 'invalid_request_error', 'Invalid API Key provided.'));
    }
    const raw = (await readBody(request, 1024 * 1024)).toString('utf8');
    const params = qs.parse(request.method === 'GET' ? url.search.slice(1) : raw, {
      depth: 10,
      arrayLimit: 100,
    }) as Params;
    const idempotencyKey = (request.headers['idempotency-key'] as string | undefined) ?? null;
    requests.push({
      method: request.method ?? 'GET',
      path: url.pathname,
      params,
      idempotencyKey,
      stripeVersion: (request.headers['stripe-version'] as string | undefined) ?? null,
    });
    if (requests.length > MAX_RECORDED) requests.shift();

    const fingerprint = createHash('sha256').update(`${url.pathname}\n${raw}`).digest('hex');
    if (request.method === 'POST' && idempotencyKey) {
      const earlier = idempotent.get(idempotencyKey);
      if (earlier && earlier.fingerprint !== fingerprint) {
        return fail(
          new StripeApiError(
            400,
            'idempotency_error',
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          ),
        );
      }
      if (earlier)
        return sendJson(response, earlier.status, earlier.body, {
          ...headers,
          'idempotent-replayed': 'true',
        });
    }
    const route = ROUTES.find(
      (candidate) => candidate.method === request.method && candidate.path.test(url.pathname),
    );
    let status = 200;
    let body: unknown;
    if (!route) {
      status = 404;
      body = new StripeApiError(
        404,
        'invalid_request_error',
        `Unrecognized request URL (${request.method}: ${url.pathname}).`,
      ).body;
    } else {
      const ctx: ApiContext = {
        store,
        sender,
        baseUrl,
        params,
        match: url.pathname.match(route.path) as RegExpMatchArray,
        request: { id: requestId, idempotencyKey },
      };
      try {
        body = route.handler(ctx);
      } catch (error) {
        if (!(error instanceof StripeApiError)) throw error;
        status = error.status;
        body = error.body;
      }
    }
    // Stripe keeps the first answer of a keyed request, errors included, and replays it.
    if (request.method === 'POST' && idempotencyKey)
      idempotent.set(idempotencyKey, { fingerprint, status, body });
    return sendJson(response, status, body, headers);
  };

  const html = (response: ServerResponse, result: PageResult) => {
    if ('redirect' in result) {
      response.writeHead(303, { location: result.redirect }).end();
      return;
    }
    response.writeHead(result.status, { 'content-type': 'text/html; charset=utf-8' }).end(result.html);
  };

  const pages = async (request: IncomingMessage, response: ServerResponse, url: URL) => {
    const [, section, id, action, target] = url.pathname.split('/');
    if (section === 'checkout' && id) {
      const session = store.get(id, 'checkout.session');
      if (!session) return html(response, { status: 404, html: 'No such checkout session.' });
      if (request.method === 'GET' && !action)
        return html(response, { status: 200, html: checkoutPage(session) });
      if (request.method === 'POST' && action === 'pay') {
        const form = new URLSearchParams((await readBody(request, 64 * 1024)).toString('utf8'));
        return html(response, payCheckout(store, sender, session, form.get('card') ?? ''));
      }
    }
    if (section === 'portal' && id) {
      const portal = store.get(id, 'billing_portal.session');
      if (!portal) return html(response, { status: 404, html: 'No such portal session.' });
      if (request.method === 'POST' && action === 'detach' && target) {
        const method = store.get(target, 'payment_method');
        if (method && method.customer === portal.customer) store.put({ ...method, customer: null });
        return html(response, { redirect: `/portal/${portal.id}` });
      }
      if (request.method === 'GET' && !action) {
        const methods = store.list('payment_method', (method) => method.customer === portal.customer);
        return html(response, { status: 200, html: portalPage(portal, methods) });
      }
    }
    return html(response, { status: 404, html: 'Not found.' });
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://stripe.local');
    if (url.pathname.startsWith('/v1/')) return api(request, response, url);
    if (url.pathname === '/_requests' && hasBearerToken(request, options.secretKey)) {
      return sendJson(response, 200, { data: requests });
    }
    if (url.pathname === '/_events' && hasBearerToken(request, options.secretKey)) {
      return sendJson(response, 200, { data: sender.events });
    }
    return pages(request, response, url);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      const body = new StripeApiError(500, 'api_error', error.message).body;
      if (!response.headersSent) sendJson(response, 500, body);
    });
  });
  const port = await listen(server, options.port);
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: baseUrl,
    port,
    requests,
    sender,
    close: async () => {
      sender.stop();
      await closeServer(server);
    },
  };
}
