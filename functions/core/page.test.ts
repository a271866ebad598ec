import { expect, it } from 'vitest';
import { pageOf } from './page.ts';

it('shows at most `limit` rows and says whether the extra row was there', () => {
  const double = (n: number) => n * 2;
  expect(pageOf([1, 2, 3], 2, double)).toEqual({ data: [2, 4], has_more: true });
  expect(pageOf([1, 2], 2, double)).toEqual({ data: [2, 4], has_more: false });
  expect(pageOf([], 2, double)).toEqual({ data: [], has_more: false });
});
