import { describe, expect, it } from 'vitest';
import { monthPeriod } from './usage-report.ts';

const NOW = new Date('2026-11-23T10:00:00Z');

describe('a usage report month', () => {
  it('is the calendar month in UTC, or the current one up to now', () => {
    expect(monthPeriod('2026-02', NOW)).toEqual({
      start: new Date('2026-02-01T00:00:00Z'),
      end: new Date('2026-03-01T00:00:00Z'),
    });
    expect(monthPeriod('2025-12', NOW).end).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(monthPeriod(undefined, NOW)).toEqual({ start: new Date('2026-11-01T00:00:00Z'), end: NOW });
  });

  it('reads years before 100 as themselves, not as the 1900s', () => {
    expect(monthPeriod('0001-01', NOW).start.getUTCFullYear()).toBe(1);
    expect(monthPeriod('0099-12', NOW).end.getUTCFullYear()).toBe(100);
  });
});
