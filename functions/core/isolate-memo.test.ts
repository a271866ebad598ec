import { describe, expect, it } from 'vitest';
import { IsolateMemo } from './isolate-memo.ts';

describe('IsolateMemo', () => {
  it('answers within its time to live, then forgets', () => {
    const memo = new IsolateMemo<string>(1_000);
    memo.set('a', 'x', 10_000);
    expect(memo.get('a', 10_999)).toBe('x');
    expect(memo.get('a', 11_000)).toBeUndefined();
    expect(memo.get('a', 10_500)).toBeUndefined();
  });

  it('treats a clock that went back as expired', () => {
    const memo = new IsolateMemo<string>(1_000);
    memo.set('a', 'x', 10_000);
    expect(memo.get('a', 9_000)).toBeUndefined();
  });

  it('lets a key through once per window', () => {
    const memo = new IsolateMemo<true>(60_000);
    expect(memo.firstInWindow('key_1', 0)).toBe(true);
    expect(memo.firstInWindow('key_1', 59_999)).toBe(false);
    expect(memo.firstInWindow('key_2', 1)).toBe(true);
    expect(memo.firstInWindow('key_1', 60_000)).toBe(true);
  });

  it('stays bounded, starting over when full', () => {
    const memo = new IsolateMemo<number>(60_000, 2);
    memo.set('a', 1, 0);
    memo.set('b', 2, 0);
    memo.set('c', 3, 0);
    expect([memo.get('a', 1), memo.get('b', 1), memo.get('c', 1)]).toEqual([undefined, undefined, 3]);
    memo.delete('c');
    expect(memo.get('c', 1)).toBeUndefined();
  });
});
