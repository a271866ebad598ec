import { createRoute, z } from '@hono/zod-openapi';
import {
  MAX_REFILL_CENTS,
  MAX_REFILL_THRESHOLD_CENTS,
  MAX_TOP_UP_CENTS,
  MIN_REFILL_CENTS,
  MIN_TOP_UP_CENTS,
  SUPPORTED_CURRENCIES,
} from '../../core/billing/amounts.ts';
import { listStatement, readBalance, statementCsv } from '../../core/billing/statement.ts';
import { authenticate } from '../../lib/auth/authenticate.ts';
import { startCheckout, startPortal } from '../../lib/billing/checkout.ts';
import { readBillingSettings, updateBillingSettings } from '../../lib/billing/settings.ts';
import { readUsage } from '../../lib/billing/usage.ts';
import { createRouter } from '../../lib/openapi.ts';
import { authErrors, bearerSecurity, jsonRequest, jsonResponse } from '../schemas.ts';

const tags = ['Billing'];
/** A CSV export holds at most this many lines (newest first). */
const CSV_LIMIT = 10_000;

export const billingRouter = createRouter();
billingRouter.use('*', authenticate());

billingRouter.openapi(
  createRoute({
    method: 'get',
    path: '/balance',
    tags,
    summary: 'The prepaid balance, and what running replicas cost per hour',
    security: bearerSecurity,
    responses: {
      200: jsonResponse('The balance', z.record(z.string(), z.unknown()).openapi('Balance')),
      ...authErrors,
    },
  }),
  async (c) => c.json(await readBalance(c.get('services')), 200),
);

billingRouter.openapi(
  createRoute({
    method: 'get',
    path: '/transactions',
    tags,
    summary: 'Every movement of the balance with the balance it left (JSON pages, or CSV)',
    description: '`format=csv` downloads up to 10,000 lines, newest first.',
    security: bearerSecurity,
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(100).default(20),
        after: z
          .string()
          .regex(/^ent_[1-9A-HJ-NP-Za-km-z]{1,40}$/, 'is not a ledger entry id')
          .optional(),
        format: z.enum(['json', 'csv']).default('json'),
      }),
    },
    responses: {
      200: jsonResponse('A page of lines', z.record(z.string(), z.unknown()).openapi('Statement')),
      ...authErrors,
    },
  }),
  async (c) => {
    const ctx = c.get('services');
    const { limit, after, format } = c.req.valid('query');
    if (format === 'csv') {
      const page = await listStatement(ctx, { limit: CSV_LIMIT, after });
      return c.body(statementCsv(page.data), 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': 'attachment; filename="transactions.csv"',
      }) as unknown as ReturnType<typeof c.json<Record<string, unknown>, 200>>;
    }
    return c.json(await listStatement(ctx, { limit, after }), 200);
  },
);

const usd = (cents: number) => `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`;
/** Whole cents between bounds, with messages that say the unit (a common mistake is sending dollars). */
const cents = (what: string, min: number, max: number) =>
  z
    .number({ error: `must be a number of cents, e.g. 2500 for $25 (${what})` })
    .int('must be a whole number of cents (no fractions of a cent), e.g. 2500 for $25')
    .min(min, `must be at least ${min} (${usd(min)})`)
    .max(max, `must be at most ${max} (${usd(max)})`);

const AddFundsBody = z
  .object({
    amount_cents: cents('the amount to add', MIN_TOP_UP_CENTS, MAX_TOP_UP_CENTS).openapi({
      description: '2500, 5000 and 10000 are the presets; any whole-cent amount from $10 to $10,000 works.',
      example: 5000,
    }),
    currency: z
      .string()
      .default('usd')
      .transform((value) => value.toLowerCase())
      .pipe(
        z.enum(SUPPORTED_CURRENCIES, { error: 'is not accepted: balances are kept in US dollars ("usd")' }),
      ),
  })
  .strict()
  .openapi('AddFunds');

const SettingsBody = z
  .object({
    auto_refill: z
      .object({
        enabled: z.boolean(),
        threshold_cents: cents('refill when the balance drops below this', 0, MAX_REFILL_THRESHOLD_CENTS),
        amount_cents: cents('the amount each refill adds', MIN_REFILL_CENTS, MAX_REFILL_CENTS),
      })
      .strict()
      .optional(),
    alert_thresholds_cents: z
      .array(cents('a balance level that sends a warning email', -100_000, MAX_REFILL_THRESHOLD_CENTS))
      .max(5, 'at most 5 warning levels')
      .optional(),
  })
  .strict()
  .openapi('BillingSettingsUpdate');

const Settings = z.record(z.string(), z.unknown()).openapi('BillingSettings');

billingRouter.openapi(
  createRoute({
    method: 'post',
    path: '/add-funds',
    tags,
    summary: 'Start a Stripe Checkout to add funds ($25, $50, $100 or a custom amount)',
    description:
      "Answers with `checkout_url`, Stripe's payment page. The balance rises when Stripe confirms the payment (its webhook), not before.",
    security: bearerSecurity,
    request: jsonRequest(AddFundsBody),
    responses: {
      201: jsonResponse(
        'The pending payment and its checkout page',
        z.record(z.string(), z.unknown()).openapi('Checkout'),
      ),
      ...authErrors,
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    return c.json(
      await startCheckout(c.get('services'), { amountCents: body.amount_cents, currency: body.currency }),
      201,
    );
  },
);

billingRouter.openapi(
  createRoute({
    method: 'post',
    path: '/portal',
    tags,
    summary: "Open Stripe's customer portal (saved cards, receipts)",
    security: bearerSecurity,
    responses: { 200: jsonResponse('The portal page', z.object({ url: z.string() })), ...authErrors },
  }),
  async (c) => c.json(await startPortal(c.get('services')), 200),
);

billingRouter.openapi(
  createRoute({
    method: 'get',
    path: '/settings',
    tags,
    summary: 'Auto-refill, low-balance warning levels and saved cards',
    security: bearerSecurity,
    responses: { 200: jsonResponse('The settings', Settings), ...authErrors },
  }),
  async (c) => c.json(await readBillingSettings(c.get('services')), 200),
);

billingRouter.openapi(
  createRoute({
    method: 'put',
    path: '/settings',
    tags,
    summary: 'Turn auto-refill on or off ("add $50 when the balance drops below $10"), set warning levels',
    security: bearerSecurity,
    request: jsonRequest(SettingsBody),
    responses: { 200: jsonResponse('The settings', Settings), ...authErrors },
  }),
  async (c) => c.json(await updateBillingSettings(c.get('services'), c.req.valid('json')), 200),
);

billingRouter.openapi(
  createRoute({
    method: 'get',
    path: '/usage',
    tags,
    summary:
      'Spend and GPU-hours by service, by day and by deployment (a month; this month to date by default)',
    security: bearerSecurity,
    request: {
      query: z.object({
        month: z
          .string()
          .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM, e.g. 2026-11')
          .optional(),
      }),
    },
    responses: {
      200: jsonResponse('Usage', z.record(z.string(), z.unknown()).openapi('Usage')),
      ...authErrors,
    },
  }),
  async (c) => c.json(await readUsage(c.get('services'), c.req.valid('query').month), 200),
);
