/**
 * Every page of a list (`has_more`, then `after` the last id), for lists a user expects whole: their
 * deployments, their keys. Bounded, so a runaway list cannot spin the page.
 */
export async function allPages<Item extends { id: string }>(
  page: (after: string | undefined) => Promise<{ data: Item[]; has_more: boolean }>,
  maxPages = 50,
): Promise<{ data: Item[]; has_more: boolean }> {
  const data: Item[] = [];
  let after: string | undefined;
  for (let fetched = 0; fetched < maxPages; fetched++) {
    const next = await page(after);
    data.push(...next.data);
    after = next.data.at(-1)?.id;
    if (!next.has_more || after === undefined) return { data, has_more: false };
  }
  return { data, has_more: true };
}
