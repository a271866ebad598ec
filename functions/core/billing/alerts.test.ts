import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertToSend, levelBelow } from './alerts.ts';

const TEN = 10_000_000;

describe('low-balance alerts', () => {
  it('warns once per level as the balance falls, and again only after a top-up re-arms it', () => {
    const thresholds = [TEN, 0];
    let alerted: number | null = null;
    const sent: number[] = [];
    const debitTo = (balance: number) => {
      const level = alertToSend(balance, thresholds, alerted);
      if (level !== null) {
        sent.push(level);
        alerted = level;
      }
    };
    debitTo(12_000_000);
    debitTo(9_000_000);
    debitTo(8_000_000);
    debitTo(-500);
    debitTo(-900);
    expect(sent).toEqual([TEN, 0]);
    // A top-up to $5 re-arms the $0 warning but not the $10 one (the balance is still below it).
    alerted = levelBelow(5_000_000, thresholds);
    debitTo(4_000_000);
    debitTo(-1);
    expect(sent).toEqual([TEN, 0, 0]);
  });

  it('never warns twice for one level without a credit in between (any debit sequence)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -5 * TEN, max: 5 * TEN }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: TEN }), { maxLength: 30 }),
        (thresholds, debits) => {
          let balance = 6 * TEN;
          let alerted: number | null = null;
          const sent: number[] = [];
          for (const debit of debits) {
            balance -= debit;
            const level = alertToSend(balance, thresholds, alerted);
            if (level !== null) {
              sent.push(level);
              alerted = level;
            }
          }
          expect(new Set(sent).size).toBe(sent.length);
          // Every level the balance ended below was warned about (at or under it).
          const final = levelBelow(balance, thresholds);
          if (final !== null) expect(Math.min(...sent)).toBeLessThanOrEqual(final);
        },
      ),
    );
  });
});
