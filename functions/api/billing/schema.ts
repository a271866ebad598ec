import { z } from '@hono/zod-openapi';
import {
  MAX_REFILL_CENTS,
  MAX_REFILL_THRESHOLD_CENTS,
  MAX_TOP_UP_CENTS,
  MIN_REFILL_CENTS,
  MIN_TOP_UP_CENTS,
  SUPPORTED_CURRENCIES,
} from '../../core/billing/amounts.ts';
import { USAGE_SERVICES } from '../../core/billing/usage-report.ts';

const usd = (cents: number) => `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`;

/** Whole cents between bounds, with messages that say the unit (a common mistake is sending dollars). */
const cents = (what: string, min: number, max: number) =>
  z
    .number({ error: `must be a number of cents, e.g. 2500 for $25 (${what})` })
    .int('must be a whole number of cents (no fractions of a cent), e.g. 2500 for $25')
    .min(min, `must be at least ${min} (${usd(min)})`)
    .max(max, `must be at most ${max} (${usd(max)})`);

export const AddFundsBody = z
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

export const SettingsBody = z
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

export const BalanceSchema = z
  .object({
    object: z.literal('balance'),
    currency: z.literal('usd'),
    balance_usd: z.number().openapi({ example: 42.5 }),
    balance_micro_usd: z.number().int().openapi({ description: 'Millionths of a dollar: the exact figure' }),
    running_cost_per_hour_usd: z.number().openapi({ description: 'What the running replicas cost per hour' }),
    updated_at: z.string().nullable(),
  })
  .openapi('Balance');

export const StatementLineSchema = z
  .object({
    id: z.string(),
    transaction_id: z
      .string()
      .nullable()
      .openapi({ description: 'Null for a usage line (many transactions)' }),
    kind: z.string().openapi({ example: 'usage' }),
    description: z.string().openapi({ example: 'chat-bot (2 hrs)' }),
    amount_usd: z.number(),
    balance_after_usd: z.number(),
    reference: z.string().nullable().openapi({ description: 'The payment, or for usage the deployment' }),
    period: z.string().nullable().openapi({ description: 'Usage lines: the UTC day they cover' }),
    created_at: z.string(),
  })
  .openapi('StatementLine');

export const StatementSchema = z
  .object({ object: z.literal('list'), data: z.array(StatementLineSchema), has_more: z.boolean() })
  .openapi('Statement');

export const CheckoutSchema = z
  .object({
    id: z.string().openapi({ description: 'The pending payment' }),
    object: z.literal('checkout'),
    status: z.literal('pending'),
    amount_cents: z.number().int(),
    currency: z.string(),
    checkout_url: z.string().nullable().openapi({ description: "Stripe's payment page" }),
    expires_at: z.number().int().openapi({ description: 'Unix seconds' }),
  })
  .openapi('Checkout');

export const BillingSettingsSchema = z
  .object({
    object: z.literal('billing_settings'),
    auto_refill: z.object({ enabled: z.boolean(), threshold_cents: z.number(), amount_cents: z.number() }),
    alert_thresholds_cents: z.array(z.number()),
    payment_methods: z.array(
      z.object({
        id: z.string(),
        brand: z.string(),
        last4: z.string(),
        exp_month: z.number(),
        exp_year: z.number(),
      }),
    ),
  })
  .openapi('BillingSettings');

const UsageService = z.enum(USAGE_SERVICES);
const usageTotals = {
  spend_usd: z.number(),
  gpu_hours: z.number(),
  average_cost_per_hour_usd: z.number().nullable(),
};

export const UsageSchema = z
  .object({
    object: z.literal('usage'),
    period: z.object({ start: z.string(), end: z.string() }),
    totals: z.object(usageTotals),
    by_service: z.array(z.object({ service: UsageService, ...usageTotals })),
    by_day: z.array(
      z.object({ date: z.string(), ...usageTotals, by_service: z.record(z.string(), z.number()) }),
    ),
    by_deployment: z.array(
      z.object({
        deployment_id: z.string(),
        name: z.string().nullable(),
        model: z.string().nullable(),
        service: UsageService,
        ...usageTotals,
      }),
    ),
  })
  .openapi('Usage');
