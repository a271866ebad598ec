import type { EventSender } from './events.ts';
import { chargeCard, createCardPaymentMethod, StripeApiError } from './payments.ts';
import { type StripeObject, type StripeStore, TEST_CARDS, type TestCardNumber } from './store.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
const money = (cents: number, currency: string) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(cents / 100);

const page = (title: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · Local Stripe</title>
<style>body{font-family:system-ui,sans-serif;max-width:460px;margin:2rem auto;padding:0 1rem;color:#1a1f36}
.note{background:#fff8e1;border:1px solid #f0c36d;padding:.5rem .75rem;border-radius:6px;font-size:.9rem}
fieldset{border:1px solid #ccd;border-radius:8px;margin:1rem 0}label{display:block;margin:.4rem 0}
button{background:#635bff;color:#fff;border:0;border-radius:6px;padding:.7rem 1.2rem;font-size:1rem;cursor:pointer}
.error{color:#b00020}.amount{font-size:2rem;font-weight:600}</style></head><body>${body}</body></html>`;

const NOTE =
  '<p class="note">Local Stripe (test mode). No card is charged: paying sends the same signed webhook event Stripe would.</p>';

export function checkoutPage(session: StripeObject, error: string | null = null): string {
  if (session.status !== 'open') {
    return page('Checkout', `${NOTE}<h1>This checkout is ${escapeHtml(String(session.status))}</h1>`);
  }
  const cards = Object.entries(TEST_CARDS)
    .map(
      ([number, card], index) =>
        `<label><input type="radio" name="card" value="${number}"${index === 0 ? ' checked' : ''}> ${number.replace(/(\d{4})(?=\d)/g, '$1 ')} — ${escapeHtml(card.label)}</label>`,
    )
    .join('');
  const cancel = session.cancel_url
    ? `<p><a href="${escapeHtml(String(session.cancel_url))}">Cancel and go back</a></p>`
    : '';
  return page(
    'Checkout',
    `${NOTE}<h1>Add funds</h1><p class="amount">${money(Number(session.amount_total), String(session.currency))}</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/checkout/${escapeHtml(session.id)}/pay"><fieldset><legend>Test card</legend>${cards}</fieldset>
<button type="submit">Pay ${money(Number(session.amount_total), String(session.currency))}</button></form>${cancel}`,
  );
}

export type PageResult = { status: number; html: string } | { redirect: string };

/** Pays an open checkout session with a test card; the platform learns of it only through webhooks. */
export function payCheckout(
  store: StripeStore,
  sender: EventSender,
  session: StripeObject,
  cardNumber: string,
): PageResult {
  if (session.status !== 'open') return { status: 409, html: checkoutPage(session) };
  if (!(cardNumber in TEST_CARDS)) return { status: 400, html: checkoutPage(session, 'Choose a test card.') };
  const intentData = session.payment_intent_data as {
    metadata: Record<string, string>;
    setup_future_usage: string | null;
    description: string | null;
  };
  const customer = (session.customer as string | null) ?? null;
  const keep = intentData.setup_future_usage !== null && customer !== null;
  const method = createCardPaymentMethod(store, cardNumber as TestCardNumber, keep ? customer : null);
  try {
    const intent = chargeCard(
      store,
      sender,
      {
        amount: Number(session.amount_total),
        currency: String(session.currency),
        customer,
        paymentMethod: method,
        metadata: intentData.metadata,
        description: intentData.description,
        setupFutureUsage: intentData.setup_future_usage,
        offSession: false,
      },
      { id: null, idempotencyKey: null },
    );
    session.status = 'complete';
    session.payment_status = 'paid';
    session.payment_intent = intent.id;
    store.put(session);
    sender.emit('checkout.session.completed', session, { id: null, idempotencyKey: null });
    return { redirect: String(session.success_url).replace('{CHECKOUT_SESSION_ID}', session.id) };
  } catch (error) {
    if (!(error instanceof StripeApiError)) throw error;
    return { status: 402, html: checkoutPage(session, error.message) };
  }
}

export function portalPage(portal: StripeObject, methods: StripeObject[]): string {
  const rows = methods
    .map((method) => {
      const card = method.card as { brand: string; last4: string; exp_month: number; exp_year: number };
      return `<li>${escapeHtml(card.brand)} •••• ${escapeHtml(card.last4)} (expires ${card.exp_month}/${card.exp_year})
<form method="post" action="/portal/${escapeHtml(portal.id)}/detach/${escapeHtml(method.id)}" style="display:inline"><button type="submit">Remove</button></form></li>`;
    })
    .join('');
  const back = portal.return_url
    ? `<p><a href="${escapeHtml(String(portal.return_url))}">Return to AI Cloud</a></p>`
    : '';
  return page(
    'Billing portal',
    `${NOTE}<h1>Payment methods</h1>${rows ? `<ul>${rows}</ul>` : '<p>No saved cards.</p>'}${back}`,
  );
}
