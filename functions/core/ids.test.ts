import { describe, expect, it } from 'vitest';
import { ID_PREFIXES, isId, newId } from './ids.ts';

describe('newId', () => {
  it('carries the prefix of its kind and a 22-character base58 body', () => {
    const id = newId('endpoint');
    expect(id).toMatch(/^ep_[1-9A-HJ-NP-Za-km-z]{22}$/);
    expect(isId('endpoint', id)).toBe(true);
  });

  it('sorts by creation time', () => {
    const earlier = newId('job', Date.UTC(2026, 0, 1));
    const later = newId('job', Date.UTC(2026, 0, 1) + 1);
    expect(earlier < later).toBe(true);
  });

  it('does not repeat', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('job', 0)));
    expect(ids.size).toBe(10_000);
  });

  it('has one distinct prefix per kind', () => {
    const prefixes = Object.values(ID_PREFIXES);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });
});

describe('isId', () => {
  it('rejects another kind, a mangled body and a wrong length', () => {
    const id = newId('org');
    expect(isId('user', id)).toBe(false);
    expect(isId('org', `${id}x`)).toBe(false);
    expect(isId('org', id.replace(/.$/, '0'))).toBe(false);
    expect(isId('org', 'org_')).toBe(false);
  });
});
