import { randomToken } from '../auth/secrets.ts';

/** A URL-safe, unique-enough slug: `acme-research-x7k2q9`. Uniqueness is still enforced by the index. */
export function orgSlug(name: string): string {
  const base =
    name
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'org';
  const suffix = randomToken(8)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 6);
  return `${base}-${suffix}`;
}
