import { afterAll, describe, expect, it } from 'vitest';
import { insertEndpoint, testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';

const database = testDatabase();
afterAll(() => database.close());

describe('API keys', () => {
  it('creates an account key shown once, lists it by prefix and last four, and lets it act in the org', async () => {
    const owner = await signUp('keys');
    const created = await call('POST', '/api/auth/api-keys', {
      token: owner.token,
      body: { name: 'ci', role: 'developer' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({
      object: 'api_key',
      kind: 'account',
      role: 'developer',
      name: 'ci',
      last_used_at: null,
      // Who made it: after a compromise, the keys to look at.
      created_by_user_id: owner.userId,
    });
    const secret: string = created.body.key;
    expect(secret).toMatch(/^sk_live_/);
    expect(created.body.prefix).toBe(secret.slice(0, 12));
    expect(created.body.last_four).toBe(secret.slice(-4));

    const listed = await call('GET', '/api/auth/api-keys', { token: owner.token });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.data[0].key).toBeUndefined();

    const org = await call('GET', '/api/org', { token: secret });
    expect(org.status).toBe(200);
    expect(org.body).toMatchObject({ object: 'organization', personal: true, role: 'developer' });
    expect(org.headers.get('x-ratelimit-limit-requests')).toBe('600');

    const fetched = await call('GET', `/api/auth/api-keys/${created.body.id}`, { token: owner.token });
    expect(fetched.body.last_used_at).not.toBeNull();
  });

  it('stops a revoked key at once', async () => {
    const owner = await signUp('revoke');
    const created = await call('POST', '/api/auth/api-keys', { token: owner.token, body: { name: 'temp' } });
    const secret: string = created.body.key;
    expect((await call('GET', '/api/org', { token: secret })).status).toBe(200);
    const revoked = await call('DELETE', `/api/auth/api-keys/${created.body.id}`, { token: owner.token });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).not.toBeNull();
    const after = await call('GET', '/api/org', { token: secret });
    expect(after.status).toBe(401);
    expect(after.body.error.message).toBe('Invalid API key.');
    expect(
      (await call('DELETE', `/api/auth/api-keys/${created.body.id}`, { token: owner.token })).status,
    ).toBe(404);
    const withRevoked = await call('GET', '/api/auth/api-keys?include_revoked=true', { token: owner.token });
    expect(withRevoked.body.data.map((key: { id: string }) => key.id)).toContain(created.body.id);
    expect((await call('GET', '/api/auth/api-keys', { token: owner.token })).body.data).toEqual([]);
  });

  it('issues deployment keys for one endpoint, which cannot manage anything, and regenerates them', async () => {
    const owner = await signUp('deploy');
    const me = await call('GET', '/api/auth/me', { token: owner.token });
    const endpointId = await insertEndpoint(database.db, me.body.org_id);
    const created = await call('POST', '/api/auth/api-keys', {
      token: owner.token,
      body: { name: 'prod app', kind: 'deployment', endpoint_id: endpointId },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'deployment', endpoint_id: endpointId, role: null });
    expect(created.body.key).toMatch(/^sk_dep_/);

    const denied = await call('GET', '/api/org', { token: created.body.key });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain('Deployment keys');

    const regenerated = await call('POST', `/api/auth/api-keys/${created.body.id}/regenerate`, {
      token: owner.token,
    });
    expect(regenerated.status).toBe(201);
    expect(regenerated.body).toMatchObject({ kind: 'deployment', endpoint_id: endpointId, name: 'prod app' });
    expect(regenerated.body.key).not.toBe(created.body.key);
    expect((await call('GET', '/api/org', { token: created.body.key })).status).toBe(401);
    expect((await call('GET', '/api/org', { token: regenerated.body.key })).status).toBe(403);
  });

  it('enforces a per-key rate limit with OpenAI-style headers and retry-after', async () => {
    const owner = await signUp('ratelimit');
    const created = await call('POST', '/api/auth/api-keys', {
      token: owner.token,
      body: { name: 'slow', rate_limit_per_minute: 3 },
    });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await call('GET', '/api/org', { token: created.body.key });
      expect(response.status, `request ${i}: ${JSON.stringify([...response.headers])}`).toBe(200);
      remaining.push(response.headers.get('x-ratelimit-remaining-requests') ?? '');
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await call('GET', '/api/org', { token: created.body.key });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    // Another key of the same org has its own budget.
    expect((await call('GET', '/api/org', { token: owner.token })).status).toBe(200);
  });
});
