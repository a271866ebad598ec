import { createRoute, z } from '@hono/zod-openapi';
import { listStatement, readBalance, statementCsv } from '../../core/billing/statement.ts';
import { startCheckout, startPortal } from '../../lib/billing/checkout.ts';
import { readBillingSettings, updateBillingSettings } from '../../lib/billing/settings.ts';
import { readUsage } from '../../lib/billing/usage.ts';
import { authenticatedRouter } from '../../lib/openapi.ts';
import { authErrors, bearerSecurity, jsonRequest, jsonResponse } from '../schemas.ts';
import {
  AddFundsBody,
  BalanceSchema,
  BillingSettingsSchema,
  CheckoutSchema,
  SettingsBody,
  StatementSchema,
  UsageSchema,
} from './schema.ts';

const tags = ['Billing'];
/** A CSV export holds at most this many lines (newest first). */
const CSV_LIMIT = 10_000;

export const billingRouter = authenticatedRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/balance',
      tags,
      summary: 'The prepaid balance, and what running replicas cost per hour',
      security: bearerSecurity,
      responses: {
        200: jsonResponse('The balance', BalanceSchema),
        ...authErrors,
      },
    }),
    async (c) => c.json(await readBalance(c.get('services')), 200),
  )
  .openapi(
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
        200: {
          description: 'A page of lines, or with `format=csv` the CSV file',
          content: {
            'application/json': { schema: StatementSchema },
            'text/csv': { schema: z.string() },
          },
        },
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
        });
      }
      return c.json(await listStatement(ctx, { limit, after }), 200);
    },
  )
  .openapi(
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
        201: jsonResponse('The pending payment and its checkout page', CheckoutSchema),
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
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/portal',
      tags,
      summary: "Open Stripe's customer portal (saved cards, receipts)",
      security: bearerSecurity,
      responses: { 200: jsonResponse('The portal page', z.object({ url: z.string() })), ...authErrors },
    }),
    async (c) => c.json(await startPortal(c.get('services')), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/settings',
      tags,
      summary: 'Auto-refill, low-balance warning levels and saved cards',
      security: bearerSecurity,
      responses: { 200: jsonResponse('The settings', BillingSettingsSchema), ...authErrors },
    }),
    async (c) => c.json(await readBillingSettings(c.get('services')), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/settings',
      tags,
      summary: 'Turn auto-refill on or off ("add $50 when the balance drops below $10"), set warning levels',
      security: bearerSecurity,
      request: jsonRequest(SettingsBody),
      responses: { 200: jsonResponse('The settings', BillingSettingsSchema), ...authErrors },
    }),
    async (c) => c.json(await updateBillingSettings(c.get('services'), c.req.valid('json')), 200),
  )
  .openapi(
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
        200: jsonResponse('Usage', UsageSchema),
        ...authErrors,
      },
    }),
    async (c) => c.json(await readUsage(c.get('services'), c.req.valid('query').month), 200),
  );
