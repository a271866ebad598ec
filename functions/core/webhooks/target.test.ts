import { describe, expect, it } from 'vitest';
import { checkWebhookTarget } from './target.ts';

const publicOnly = { allowPrivate: false };

describe('webhook target (SSRF) check', () => {
  it('accepts public https URLs', () => {
    for (const url of [
      'https://hooks.example.com/ai',
      'https://93.184.216.34:8443/x',
      'https://[2606:4700::6810:85e5]/x',
    ]) {
      expect(checkWebhookTarget(url, publicOnly)).toBe(new URL(url).toString());
    }
  });

  it('refuses loopback, private, link-local, metadata and internal targets however they are spelled', () => {
    for (const url of [
      'https://127.0.0.1/x',
      'https://2130706433/x',
      'https://0x7f.0.0.1/x',
      'https://10.0.0.5/x',
      'https://172.16.3.4/x',
      'https://192.168.1.1/x',
      'https://169.254.169.254/latest/meta-data',
      'https://100.64.0.1/x',
      'https://0.0.0.0/x',
      'https://[::1]/x',
      'https://[fd00::1]/x',
      'https://[fe80::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://localhost/x',
      'https://localhost./x',
      'https://db.internal./x',
      'https://api.localhost/x',
      'https://printer.local/x',
      'https://db.internal/x',
      'https://intranet/x',
      'http://hooks.example.com/x',
      'ftp://hooks.example.com/x',
      'https://user:pass@hooks.example.com/x',
      'not a url',
    ]) {
      expect(() => checkWebhookTarget(url, publicOnly), url).toThrow(/^webhook: /);
    }
  });

  it('allows local receivers only when development asks for it', () => {
    expect(checkWebhookTarget('http://127.0.0.1:9999/hook', { allowPrivate: true })).toBe(
      'http://127.0.0.1:9999/hook',
    );
  });
});
