import { describe, expect, it } from 'vitest';
import { allPages } from './pages.ts';

const items = Array.from({ length: 250 }, (_, i) => ({ id: `dep_${String(i).padStart(3, '0')}` }));
/** The API's paging: `limit` items after the given id, and whether more follow. */
const api = (limit: number) => {
  const calls: (string | undefined)[] = [];
  const page = async (after: string | undefined) => {
    calls.push(after);
    const start = after ? items.findIndex((item) => item.id === after) + 1 : 0;
    return { data: items.slice(start, start + limit), has_more: start + limit < items.length };
  };
  return { calls, page };
};

describe('a list read whole', () => {
  it('follows has_more from page to page until the last item', async () => {
    const { calls, page } = api(100);
    const all = await allPages(page);
    expect(all).toEqual({ data: items, has_more: false });
    expect(calls).toEqual([undefined, 'dep_099', 'dep_199']);
  });

  it('stops at its page bound and says more remain', async () => {
    const { page } = api(10);
    const some = await allPages(page, 3);
    expect(some.data).toHaveLength(30);
    expect(some.has_more).toBe(true);
  });
});
