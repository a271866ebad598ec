import { z } from 'zod';
import { centsToMicroUsd, formatUsd, microUsdToCents, microUsdToUsd } from './amounts.ts';

/** The periods a spend counts in: its UTC day, its calendar month (UTC), and all time. */
export function spendPeriods(at: Date) {
  const iso = at.toISOString();
  return { day: iso.slice(0, 10), month: iso.slice(0, 7), total: 'total' } as const;
}

export const endpointSubject = (endpointId: string) => `endpoint:${endpointId}`;
export const apiKeySubject = (keyId: string) => `api_key:${keyId}`;

const capCents = z
  .number({ error: 'must be a number of cents, e.g. 5000 for $50, or null for no cap' })
  .int('must be a whole number of cents')
  .min(100, 'must be at least 100 ($1.00)')
  .max(100_000_000, 'must be at most 100000000 ($1,000,000.00)')
  .nullable();

/** `{"daily_cents": 5000, "monthly_cents": null}`: a field left out keeps its value, null removes it. */
export const spendCapInput = z
  .object({ daily_cents: capCents.optional(), monthly_cents: capCents.optional() })
  .strict()
  .refine((cap) => cap.daily_cents !== undefined || cap.monthly_cents !== undefined, {
    message: 'name daily_cents, monthly_cents or both (null removes a cap)',
  })
  .refine(
    (cap) => cap.daily_cents == null || cap.monthly_cents == null || cap.daily_cents <= cap.monthly_cents,
    { message: 'daily_cents must not exceed monthly_cents', path: ['daily_cents'] },
  );
export type SpendCapInput = z.infer<typeof spendCapInput>;

/** The columns a cap input sets (undefined: unchanged). */
export function capColumns(cap: SpendCapInput | undefined) {
  const micro = (cents: number | null | undefined) =>
    cents === undefined ? undefined : cents === null ? null : centsToMicroUsd(cents);
  return {
    spendCapDailyMicroUsd: micro(cap?.daily_cents),
    spendCapMonthlyMicroUsd: micro(cap?.monthly_cents),
  };
}

export interface CapRow {
  spendCapDailyMicroUsd: number | null;
  spendCapMonthlyMicroUsd: number | null;
}

export const capView = (row: CapRow) => ({
  daily_cents: row.spendCapDailyMicroUsd === null ? null : microUsdToCents(row.spendCapDailyMicroUsd),
  monthly_cents: row.spendCapMonthlyMicroUsd === null ? null : microUsdToCents(row.spendCapMonthlyMicroUsd),
});

export const spendView = (spend: { day: number; month: number }) => ({
  today_usd: microUsdToUsd(spend.day),
  month_usd: microUsdToUsd(spend.month),
});

/** Which cap the spend has reached, if any (the daily one first: it resets sooner). */
export function capReached(cap: CapRow, spend: { day: number; month: number }): 'daily' | 'monthly' | null {
  if (cap.spendCapDailyMicroUsd !== null && spend.day >= cap.spendCapDailyMicroUsd) return 'daily';
  if (cap.spendCapMonthlyMicroUsd !== null && spend.month >= cap.spendCapMonthlyMicroUsd) return 'monthly';
  return null;
}

/** What a caller refused by a cap reads: which cap, how much, when it lifts. */
export function capMessage(
  what: 'This deployment' | 'This API key',
  reached: 'daily' | 'monthly',
  cap: CapRow,
) {
  const limit = reached === 'daily' ? cap.spendCapDailyMicroUsd : cap.spendCapMonthlyMicroUsd;
  const resets = reached === 'daily' ? 'at 00:00 UTC' : 'on the 1st of next month (UTC)';
  return `${what} reached its ${reached} spend cap of ${formatUsd(limit ?? 0)}. It resumes ${resets}, or raise the cap.`;
}
