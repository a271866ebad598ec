import type { EventSender } from './events.ts';
import { chargeCard, missing, type RequestInfo, refundCharge, StripeApiError } from './payments.ts';
import { type StripeObject, type StripeStore, stripeId, unixNow } from './store.ts';

export type Params = Record<string, unknown>;

export interface ApiContext {
  store: StripeStore;
  sender: EventSender;
  /** Where the stand-in's own pages (checkout, portal) are served. */
  baseUrl: string;
  params: Params;
  match: RegExpMatchArray;
  request: RequestInfo;
}

type Handler = (ctx: ApiContext) => StripeObject | Record<string, unknown>;
export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: RegExp;
  handler: Handler;
}

const invalid = (message: string, param: string) =>
  new StripeApiError(400, 'invalid_request_error', message, { param });

function text(params: Params, name: string, required: true): string;
function text(params: Params, name: string, required?: false): string | null;
function text(params: Params, name: string, required = false): string | null {
  const value = name.split('.').reduce<unknown>((at, key) => (at as Params | undefined)?.[key], params);
  if (value === undefined || value === '') {
    if (required) throw invalid(`Missing required param: ${name}.`, name);
    return null;
  }
  if (typeof value !== 'string') throw invalid(`Invalid string: ${name}`, name);
  return value;
}

function integer(params: Params, name: string, required: boolean): number | undefined {
  const value = text(params, name, required as true);
  if (value === null) return undefined;
  if (!/^-?\d+$/.test(value)) throw invalid(`Invalid integer: ${value}`, name);
  return Number(value);
}

const bool = (params: Params, name: string) => text(params, name) === 'true';

/** Metadata as Stripe checks it: up to 50 keys of ≤ 40 characters, string values of ≤ 500. */
function metadata(params: Params, name = 'metadata'): Record<string, string> {
  const value = params[name];
  if (value === undefined || value === '') return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('Invalid object', name);
  const entries = Object.entries(value as Params);
  if (entries.length > 50) throw invalid('Metadata can have at most 50 keys.', name);
  for (const [key, item] of entries) {
    if (key.length > 40 || typeof item !== 'string' || item.length > 500)
      throw invalid(`Invalid metadata entry: ${key}`, `${name}[${key}]`);
  }
  return value as Record<string, string>;
}

function currency(params: Params, name: string): string {
  const value = text(params, name, true).toLowerCase();
  if (!/^[a-z]{3}$/.test(value)) throw invalid(`Invalid currency: ${value}.`, name);
  return value;
}

function customerOf(ctx: ApiContext, id: string, param = 'customer'): StripeObject {
  const customer = ctx.store.get(id, 'customer');
  if (!customer || customer.deleted) throw missing('customer', id, param);
  return customer;
}

const list = (data: StripeObject[], url: string, limit = 10) => ({
  object: 'list',
  data: data.slice(0, limit),
  has_more: data.length > limit,
  url,
});

function createCustomer(ctx: ApiContext) {
  return ctx.store.put({
    id: stripeId('cus', 14),
    object: 'customer',
    email: text(ctx.params, 'email'),
    name: text(ctx.params, 'name'),
    metadata: metadata(ctx.params),
    invoice_settings: { default_payment_method: null },
    created: unixNow(),
    livemode: false,
  });
}

function updateCustomer(ctx: ApiContext) {
  const customer = customerOf(ctx, ctx.match[1] ?? '', 'id');
  const defaultMethod = text(ctx.params, 'invoice_settings.default_payment_method');
  if (defaultMethod !== null) {
    const method = ctx.store.get(defaultMethod, 'payment_method');
    if (!method || method.customer !== customer.id)
      throw missing('payment_method', defaultMethod, 'invoice_settings[default_payment_method]');
    customer.invoice_settings = { default_payment_method: defaultMethod };
  }
  for (const field of ['email', 'name'] as const) {
    const value = text(ctx.params, field);
    if (value !== null) customer[field] = value;
  }
  if (ctx.params.metadata !== undefined)
    customer.metadata = { ...(customer.metadata as object), ...metadata(ctx.params) };
  return ctx.store.put(customer);
}

function customerPaymentMethods(ctx: ApiContext, customerId: string) {
  customerOf(ctx, customerId);
  const type = text(ctx.params, 'type');
  const limit = integer(ctx.params, 'limit', false) ?? 10;
  if (limit < 1 || limit > 100) throw invalid('limit must be between 1 and 100', 'limit');
  const methods = ctx.store.list(
    'payment_method',
    (method) => method.customer === customerId && (type === null || method.type === type),
  );
  return list(methods, `/v1/customers/${customerId}/payment_methods`, limit);
}

function createCheckoutSession(ctx: ApiContext) {
  const { params } = ctx;
  const mode = text(params, 'mode', true);
  if (mode !== 'payment') throw invalid('The local Stripe supports mode=payment only.', 'mode');
  const successUrl = text(params, 'success_url', true);
  const cancelUrl = text(params, 'cancel_url');
  const customer = text(params, 'customer');
  if (customer) customerOf(ctx, customer);
  const items = params.line_items;
  if (!Array.isArray(items) || items.length === 0)
    throw invalid('Missing required param: line_items.', 'line_items');
  let amountTotal = 0;
  let sessionCurrency: string | null = null;
  items.forEach((item: Params, index) => {
    const prefix = `line_items[${index}]`;
    const priceData = (item.price_data ?? {}) as Params;
    const unitAmount = integer(priceData, 'unit_amount', true) ?? 0;
    const itemCurrency = currency(priceData, 'currency');
    if (unitAmount < 50)
      throw invalid('Amount must be at least $0.50 usd', `${prefix}[price_data][unit_amount]`);
    if (unitAmount > 99_999_999)
      throw invalid('Amount must be no more than $999,999.99', `${prefix}[price_data][unit_amount]`);
    text((priceData.product_data ?? {}) as Params, 'name', true);
    const quantity = integer(item, 'quantity', true) ?? 0;
    if (quantity < 1) throw invalid('Quantity must be at least 1.', `${prefix}[quantity]`);
    if (sessionCurrency && sessionCurrency !== itemCurrency)
      throw invalid('All line items must use the same currency.', `${prefix}[price_data][currency]`);
    sessionCurrency = itemCurrency;
    amountTotal += unitAmount * quantity;
  });
  const intentData = (params.payment_intent_data ?? {}) as Params;
  const id = stripeId('cs_test', 58);
  return ctx.store.put({
    id,
    object: 'checkout.session',
    mode,
    status: 'open',
    payment_status: 'unpaid',
    amount_subtotal: amountTotal,
    amount_total: amountTotal,
    currency: sessionCurrency,
    customer,
    customer_email: text(params, 'customer_email'),
    client_reference_id: text(params, 'client_reference_id'),
    metadata: metadata(params),
    payment_intent: null,
    payment_intent_data: {
      metadata: metadata(intentData),
      setup_future_usage: text(intentData, 'setup_future_usage'),
      description: text(intentData, 'description'),
    },
    line_items: items,
    success_url: successUrl,
    cancel_url: cancelUrl,
    url: `${ctx.baseUrl}/checkout/${id}`,
    created: unixNow(),
    expires_at: unixNow() + 24 * 3600,
    livemode: false,
  });
}

function createPaymentIntent(ctx: ApiContext) {
  const { params } = ctx;
  const amount = integer(params, 'amount', true) ?? 0;
  if (amount < 50) throw invalid('Amount must be at least $0.50 usd', 'amount');
  const customer = text(params, 'customer');
  if (customer) customerOf(ctx, customer);
  const methodId = text(params, 'payment_method', true);
  const method = ctx.store.get(methodId, 'payment_method');
  if (!method) throw missing('payment_method', methodId, 'payment_method');
  if (customer && method.customer !== customer) {
    throw invalid(
      `The provided PaymentMethod ${methodId} does not belong to the customer ${customer}.`,
      'payment_method',
    );
  }
  if (!bool(params, 'confirm'))
    throw invalid('The local Stripe confirms intents at creation only.', 'confirm');
  return chargeCard(
    ctx.store,
    ctx.sender,
    {
      amount,
      currency: currency(params, 'currency'),
      customer,
      paymentMethod: method,
      metadata: metadata(params),
      description: text(params, 'description'),
      setupFutureUsage: null,
      offSession: bool(params, 'off_session'),
    },
    ctx.request,
  );
}

function createRefund(ctx: ApiContext) {
  const intentId = text(ctx.params, 'payment_intent');
  const chargeId =
    text(ctx.params, 'charge') ??
    (intentId ? (ctx.store.get(intentId, 'payment_intent')?.latest_charge as string | undefined) : undefined);
  if (!chargeId) throw invalid('One of `charge` or `payment_intent` is required.', 'charge');
  const charge = ctx.store.get(chargeId, 'charge');
  if (!charge) throw missing('charge', chargeId, 'charge');
  return refundCharge(ctx.store, ctx.sender, charge, integer(ctx.params, 'amount', false), ctx.request);
}

function createPortalSession(ctx: ApiContext) {
  const customer = text(ctx.params, 'customer', true);
  customerOf(ctx, customer);
  const id = stripeId('bps');
  return ctx.store.put({
    id,
    object: 'billing_portal.session',
    customer,
    return_url: text(ctx.params, 'return_url'),
    url: `${ctx.baseUrl}/portal/${id}`,
    created: unixNow(),
    livemode: false,
  });
}

const retrieve = (object: string, kind: string) => (ctx: ApiContext) => {
  const id = ctx.match[1] ?? '';
  const found = ctx.store.get(id, object);
  if (!found) throw missing(kind, id);
  return found;
};

/** The part of Stripe's API the platform calls, with Stripe's validation and error shapes. */
export const ROUTES: Route[] = [
  { method: 'POST', path: /^\/v1\/customers$/, handler: createCustomer },
  {
    method: 'GET',
    path: /^\/v1\/customers\/([^/]+)$/,
    handler: (ctx) => customerOf(ctx, ctx.match[1] ?? '', 'id'),
  },
  { method: 'POST', path: /^\/v1\/customers\/([^/]+)$/, handler: updateCustomer },
  {
    method: 'GET',
    path: /^\/v1\/customers\/([^/]+)\/payment_methods$/,
    handler: (ctx) => customerPaymentMethods(ctx, ctx.match[1] ?? ''),
  },
  {
    method: 'GET',
    path: /^\/v1\/payment_methods$/,
    handler: (ctx) => customerPaymentMethods(ctx, text(ctx.params, 'customer', true)),
  },
  {
    method: 'GET',
    path: /^\/v1\/payment_methods\/([^/]+)$/,
    handler: retrieve('payment_method', 'payment_method'),
  },
  {
    method: 'POST',
    path: /^\/v1\/payment_methods\/([^/]+)\/detach$/,
    handler: (ctx) => {
      const method = retrieve('payment_method', 'payment_method')(ctx);
      method.customer = null;
      return ctx.store.put(method);
    },
  },
  { method: 'POST', path: /^\/v1\/checkout\/sessions$/, handler: createCheckoutSession },
  {
    method: 'GET',
    path: /^\/v1\/checkout\/sessions\/([^/]+)$/,
    handler: retrieve('checkout.session', 'checkout.session'),
  },
  { method: 'POST', path: /^\/v1\/payment_intents$/, handler: createPaymentIntent },
  {
    method: 'GET',
    path: /^\/v1\/payment_intents\/([^/]+)$/,
    handler: retrieve('payment_intent', 'payment_intent'),
  },
  { method: 'GET', path: /^\/v1\/charges\/([^/]+)$/, handler: retrieve('charge', 'charge') },
  { method: 'POST', path: /^\/v1\/refunds$/, handler: createRefund },
  { method: 'POST', path: /^\/v1\/billing_portal\/sessions$/, handler: createPortalSession },
];
