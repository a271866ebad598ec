import { describe, expect, it } from 'vitest';
import { call, signUp } from '../../../tests/harness/edge.ts';

describe('requests signed in with the session cookie', () => {
  it('change nothing when a foreign page makes the browser send them; the dashboard and API keys still do', async () => {
    const user = await signUp('csrf');
    const created = await call('POST', '/api/deployments', {
      token: user.token,
      body: { model: 'llama-3.1-8b-instruct' },
    });
    const stop = `/api/deployments/${created.body.id}/stop`;
    const cookie = `aic_session=${user.token}`;
    // A bodiless POST needs no CORS preflight: a foreign form or fetch can make it with the cookie.
    const origins: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example' },
    ];
    for (const from of origins) {
      const forged = await call('POST', stop, { headers: { cookie, ...from } });
      expect(forged.status, JSON.stringify(from)).toBe(403);
      expect(forged.body.error.code).toBe('forbidden');
    }
    expect((await call('GET', `/api/deployments/${created.body.id}`, { token: user.token })).body.state).toBe(
      'active',
    );
    // Reading is harmless, and the dashboard's own requests pass.
    expect(
      (await call('GET', '/api/auth/me', { headers: { cookie, 'sec-fetch-site': 'cross-site' } })).status,
    ).toBe(200);
    expect((await call('POST', stop, { headers: { cookie, 'sec-fetch-site': 'same-origin' } })).status).toBe(
      200,
    );
    // A bearer credential is never ambient: where the request comes from does not matter.
    const start = `/api/deployments/${created.body.id}/start`;
    expect(
      (await call('POST', start, { token: user.token, headers: { 'sec-fetch-site': 'cross-site' } })).status,
    ).toBe(200);
  });
});
