import { describe, expect, it } from 'vitest';
import { capMessage, capReached, spendCapInput, spendPeriods } from './caps.ts';

const cap = (daily: number | null, monthly: number | null) => ({
  spendCapDailyMicroUsd: daily,
  spendCapMonthlyMicroUsd: monthly,
});

describe('spend caps', () => {
  it('counts a spend in its UTC day and month', () => {
    expect(spendPeriods(new Date('2026-11-30T23:59:59.999Z'))).toEqual({
      day: '2026-11-30',
      month: '2026-11',
      total: 'total',
    });
    expect(spendPeriods(new Date('2026-12-01T00:00:00Z'))).toMatchObject({
      day: '2026-12-01',
      month: '2026-12',
    });
  });

  it('is reached at the cap, not before, daily first', () => {
    expect(capReached(cap(5_000_000, null), { day: 4_999_999, month: 9e9 })).toBeNull();
    expect(capReached(cap(5_000_000, null), { day: 5_000_000, month: 0 })).toBe('daily');
    expect(capReached(cap(null, 50_000_000), { day: 0, month: 50_000_001 })).toBe('monthly');
    expect(capReached(cap(5_000_000, 50_000_000), { day: 6_000_000, month: 60_000_000 })).toBe('daily');
    expect(capReached(cap(null, null), { day: 9e12, month: 9e12 })).toBeNull();
    expect(capMessage('This deployment', 'daily', cap(5_000_000, null))).toBe(
      'This deployment reached its daily spend cap of $5.00. It resumes at 00:00 UTC, or raise the cap.',
    );
  });

  it('takes whole cents within bounds, null to remove, and a daily cap no larger than the monthly one', () => {
    expect(spendCapInput.parse({ daily_cents: 500, monthly_cents: null })).toEqual({
      daily_cents: 500,
      monthly_cents: null,
    });
    for (const bad of [
      { daily_cents: 12.5 },
      { daily_cents: 50 },
      { monthly_cents: -1 },
      { weekly_cents: 100 },
      { daily_cents: 2000, monthly_cents: 1000 },
    ]) {
      expect(spendCapInput.safeParse(bad).success).toBe(false);
    }
  });
});
