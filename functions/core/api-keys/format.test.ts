import { describe, expect, it } from 'vitest';
import { generateApiKey, parseApiKey } from './format.ts';

describe('API key format', () => {
  it('generates prefixed keys that parse back to their kind', () => {
    const account = generateApiKey('account');
    const deployment = generateApiKey('deployment');
    expect(account.secret).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);
    expect(deployment.secret).toMatch(/^sk_dep_[0-9A-Za-z]{38}$/);
    expect(parseApiKey(account.secret)).toBe('account');
    expect(parseApiKey(deployment.secret)).toBe('deployment');
    expect(account.displayPrefix).toBe(account.secret.slice(0, 12));
    expect(account.lastFour).toBe(account.secret.slice(-4));
  });

  it('never repeats a key', () => {
    const secrets = new Set(Array.from({ length: 2000 }, () => generateApiKey('account').secret));
    expect(secrets.size).toBe(2000);
  });

  it('rejects every single-character typo through the checksum', () => {
    const { secret } = generateApiKey('account');
    let caught = 0;
    let tried = 0;
    for (let index = 'sk_live_'.length; index < secret.length; index++) {
      const replacement = secret[index] === 'a' ? 'b' : 'a';
      const typo = secret.slice(0, index) + replacement + secret.slice(index + 1);
      tried++;
      if (parseApiKey(typo) === null) caught++;
    }
    expect(caught).toBe(tried);
  });

  it('rejects truncated, extended, mis-prefixed and foreign strings', () => {
    const { secret } = generateApiKey('deployment');
    for (const candidate of [
      secret.slice(0, -1),
      `${secret}x`,
      secret.replace('sk_dep_', 'sk_live_'),
      secret.replace('sk_dep_', 'sk_test_'),
      '',
      'sk_live_',
      'Bearer abc',
    ]) {
      expect(parseApiKey(candidate)).toBeNull();
    }
  });
});
