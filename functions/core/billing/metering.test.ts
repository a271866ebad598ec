import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minimumTopUp, minuteCharges, sessionCost } from './metering.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const A10G = 1_100_000; // $1.10 per hour
const PER_SECOND = 3_600_000; // $3.60 per hour: 1,000 micro-dollars a second

describe('per-minute metering of replica uptime', () => {
  it('charges per second across clock minutes', () => {
    const session = { activeAtMs: T0 + 30_000, releasedAtMs: T0 + 150_000, pricePerHourMicroUsd: PER_SECOND };
    expect(minuteCharges(session, T0 + 999_999)).toEqual([
      { minuteMs: T0, seconds: 30, amountMicroUsd: 30_000 },
      { minuteMs: T0 + 60_000, seconds: 60, amountMicroUsd: 60_000 },
      { minuteMs: T0 + 120_000, seconds: 30, amountMicroUsd: 30_000 },
    ]);
    expect(minimumTopUp(session)).toBe(0);
  });

  it('bills a short session a full minute: its seconds, then the rest as one top-up', () => {
    const short = { activeAtMs: T0 + 50_000, releasedAtMs: T0 + 70_000, pricePerHourMicroUsd: PER_SECOND };
    expect(minuteCharges(short, T0 + 999_999)).toEqual([
      { minuteMs: T0, seconds: 10, amountMicroUsd: 10_000 },
      { minuteMs: T0 + 60_000, seconds: 10, amountMicroUsd: 10_000 },
    ]);
    expect(minimumTopUp(short)).toBe(40_000);
    expect(minimumTopUp({ ...short, releasedAtMs: null })).toBe(0);
  });

  it('leaves a running replica’s current minute for the next run', () => {
    const running = { activeAtMs: T0 + 10_000, releasedAtMs: null, pricePerHourMicroUsd: A10G };
    expect(minuteCharges(running, T0 + 59_000)).toEqual([]);
    expect(minuteCharges(running, T0 + 61_000).map((charge) => charge.minuteMs)).toEqual([T0]);
    expect(minuteCharges(running, T0 + 125_000).map((charge) => charge.minuteMs)).toEqual([T0, T0 + 60_000]);
  });

  it('property: charges add up to exactly the session cost, and a minute once charged never changes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.integer({ min: 1, max: 6 * 3_600_000 }),
        fc.integer({ min: 1, max: 40_000_000 }),
        fc.integer({ min: 0, max: 6 * 3_600_000 }),
        (start, length, price, seenAfter) => {
          const activeAtMs = T0 + start;
          const released = { activeAtMs, releasedAtMs: activeAtMs + length, pricePerHourMicroUsd: price };
          const charges = minuteCharges(released, activeAtMs + length + 1);
          const total =
            charges.reduce((sum, charge) => sum + charge.amountMicroUsd, 0) + minimumTopUp(released);
          expect(total).toBe(sessionCost(released));
          expect(new Set(charges.map((charge) => charge.minuteMs)).size).toBe(charges.length);
          // An earlier run, while it was still up, charged a prefix of the very same minutes.
          const earlier = minuteCharges(
            { ...released, releasedAtMs: null },
            activeAtMs + Math.min(seenAfter, length),
          );
          expect(charges.slice(0, earlier.length)).toEqual(earlier);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
