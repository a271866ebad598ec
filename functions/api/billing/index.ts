import { createRoute, z } from '@hono/zod-openapi';
import { listStatement, readBalance, statementCsv } from '../../core/billing/statement.ts';
import { authenticate } from '../../lib/auth/authenticate.ts';
import { createRouter } from '../../lib/openapi.ts';
import { authErrors, bearerSecurity, jsonResponse } from '../schemas.ts';

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
