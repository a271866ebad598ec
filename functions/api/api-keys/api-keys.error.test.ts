import { afterAll, describe, expect, it } from 'vitest';
import { insertEndpoint, testDatabase } from '../../../tests/harness/db.ts';
import { call, env, signUp } from '../../../tests/harness/edge.ts';
import { keyCacheKey, MISSING_KEY } from '../../core/api-keys/cache.ts';
import { generateApiKey } from '../../core/api-keys/format.ts';
import { sha256Hex } from '../../core/auth/secrets.ts';
import { newId } from '../../core/ids.ts';
import { createRedis } from '../../lib/redis.ts';

const redis = createRedis({
  url: env.UPSTASH_REDIS_REST_URL ?? '',
  token: env.UPSTASH_REDIS_REST_TOKEN ?? '',
});

const database = testDatabase();
afterAll(() => database.close());

describe('API keys with bad input', () => {
  it('refuses malformed creations with the offending field named, and stores no key', async () => {
    const owner = await signUp('badkeys');
    const cases: [unknown, string][] = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ name: 'd', kind: 'deployment' }, 'endpoint_id'],
      [{ name: 'd', kind: 'account', endpoint_id: newId('endpoint') }, 'endpoint_id'],
      [{ name: 'd', kind: 'deployment', endpoint_id: newId('endpoint'), role: 'admin' }, 'role'],
      [{ name: 'd', kind: 'deployment', endpoint_id: '' }, 'endpoint_id'],
      [{ name: 'd', kind: 'account', endpoint_id: '' }, 'endpoint_id'],
      [{ name: 'd', kind: 'deployment', endpoint_id: 'key_x' }, 'endpoint_id'],
      [{ name: '\u0001bot' }, 'name'],
      [{ name: 'invoice\u202egpj.exe' }, 'name'],
      [{ name: 'd', role: 'superuser' }, 'role'],
      [{ name: 'd', rate_limit_per_minute: 0 }, 'rate_limit_per_minute'],
      [{ name: 'd', kind: 'root' }, 'kind'],
      [{ name: 'd', surprise: true }, ''],
    ];
    for (const [body, param] of cases) {
      const response = await call('POST', '/api/auth/api-keys', { token: owner.token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.type).toBe('invalid_request_error');
      if (param) expect(response.body.error.param).toBe(param);
    }
    expect((await call('GET', '/api/auth/api-keys', { token: owner.token })).body.data).toEqual([]);
  });

  it('answers 404 for an endpoint of another org or a deleted one', async () => {
    const owner = await signUp('foreign-endpoint');
    const stranger = await signUp('stranger');
    const strangerOrg = (await call('GET', '/api/auth/me', { token: stranger.token })).body.org_id;
    const ownOrg = (await call('GET', '/api/auth/me', { token: owner.token })).body.org_id;
    for (const endpointId of [
      await insertEndpoint(database.db, strangerOrg),
      await insertEndpoint(database.db, ownOrg, true),
    ]) {
      const response = await call('POST', '/api/auth/api-keys', {
        token: owner.token,
        body: { name: 'x', kind: 'deployment', endpoint_id: endpointId },
      });
      expect(response.status).toBe(404);
      expect(response.body.error.param).toBe('endpoint_id');
    }
  });

  it('tells a mistyped or unknown key from nothing, without saying which', async () => {
    const owner = await signUp('typo');
    const { key } = (await call('POST', '/api/auth/api-keys', { token: owner.token, body: { name: 'k' } }))
      .body;
    const typo = `${key.slice(0, 20)}${key[20] === 'a' ? 'b' : 'a'}${key.slice(21)}`;
    for (const candidate of [typo, generateApiKey('account').secret, 'sk_live_short']) {
      const response = await call('GET', '/api/org', { token: candidate });
      expect(response.status).toBe(401);
      expect(response.body.error.message).toBe('Invalid API key.');
    }
  });

  it('does not let a key grant more than its own role, nor an admin revoke an owner key', async () => {
    const owner = await signUp('escalate');
    const developerKey = (
      await call('POST', '/api/auth/api-keys', {
        token: owner.token,
        body: { name: 'dev', role: 'developer' },
      })
    ).body.key;
    const escalation = await call('POST', '/api/auth/api-keys', {
      token: developerKey,
      body: { name: 'up', role: 'owner' },
    });
    expect(escalation.status).toBe(403);
    const adminKey = (
      await call('POST', '/api/auth/api-keys', { token: owner.token, body: { name: 'adm', role: 'admin' } })
    ).body.key;
    const ownerKey = (
      await call('POST', '/api/auth/api-keys', { token: owner.token, body: { name: 'own', role: 'owner' } })
    ).body;
    expect((await call('DELETE', `/api/auth/api-keys/${ownerKey.id}`, { token: adminKey })).status).toBe(403);
    expect((await call('GET', '/api/org', { token: ownerKey.key })).status).toBe(200);
  });

  it('lets a capped key read and run inference only, from the moment it is capped', async () => {
    const owner = await signUp('capped');
    const created = (
      await call('POST', '/api/auth/api-keys', {
        token: owner.token,
        body: { name: 'bot', role: 'owner' },
      })
    ).body;
    const deployment = (
      await call('POST', '/api/deployments', { token: owner.token, body: { model: 'llama-3.1-8b-instruct' } })
    ).body;
    const asKey = (method: string, path: string, body?: unknown) =>
      call(method, path, { token: created.key, body });
    // Uncapped, it manages (and its resolution is now cached).
    expect((await asKey('PATCH', `/api/deployments/${deployment.id}`, { max_replicas: 2 })).status).toBe(200);

    const capped = await call('PATCH', `/api/auth/api-keys/${created.id}`, {
      token: owner.token,
      body: { spend_cap: { daily_cents: 2000 } },
    });
    expect(capped.status).toBe(200);
    // Anything that could spend outside its cap (replicas bill uptime, a new key has a cap of its
    // own) or lift it is refused at once, not when the cached resolution expires.
    const uncapped = (
      await call('POST', '/api/auth/api-keys', { token: owner.token, body: { name: 'free', role: 'viewer' } })
    ).body;
    for (const [method, path, body] of [
      ['PATCH', `/api/auth/api-keys/${created.id}`, { spend_cap: { daily_cents: null } }],
      ['POST', '/api/auth/api-keys', { name: 'loose', spend_cap: { daily_cents: 500 } }],
      ['POST', `/api/auth/api-keys/${uncapped.id}/regenerate`, undefined],
      ['POST', '/api/deployments', { model: 'llama-3.1-8b-instruct' }],
      ['PATCH', `/api/deployments/${deployment.id}`, { min_replicas: 1 }],
      ['PUT', '/api/billing/settings', { alert_thresholds_cents: [500] }],
    ] as const) {
      const refused = await asKey(method, path, body);
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.body.error.type).toBe('permission_error');
      expect(refused.body.error.message).toContain('spend cap');
    }
    const unchanged = await call('GET', `/api/deployments/${deployment.id}`, { token: owner.token });
    expect(unchanged.body.min_replicas).toBe(0);
    expect(
      (await call('GET', `/api/auth/api-keys/${created.id}`, { token: owner.token })).body.spend_cap,
    ).toEqual({ daily_cents: 2000, monthly_cents: null });
    expect((await call('GET', '/api/org', { token: uncapped.key })).status).toBe(200);
    // It still reads, and calls its org's models (here, a 402 for an org without funds, not a 403).
    expect((await asKey('GET', '/api/deployments')).status).toBe(200);
    expect((await asKey('GET', `/api/auth/api-keys/${created.id}`)).status).toBe(200);
    const inference = await asKey('POST', '/v1/chat/completions', {
      model: deployment.id,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(inference.status).toBe(402);

    // A signed-in member lifts the cap, and the key manages again at once.
    const lifted = await call('PATCH', `/api/auth/api-keys/${created.id}`, {
      token: owner.token,
      body: { spend_cap: { daily_cents: null } },
    });
    expect(lifted.body.spend_cap).toEqual({ daily_cents: null, monthly_cents: null });
    expect((await asKey('PATCH', `/api/deployments/${deployment.id}`, { max_replicas: 3 })).status).toBe(200);
  });

  it('leaves a tombstone for a revoked key, so a lookup racing the revocation cannot cache it back', async () => {
    const owner = await signUp('key-tombstone');
    const created = await call('POST', '/api/auth/api-keys', {
      token: owner.token,
      body: { name: 'leaked' },
    });
    expect((await call('GET', '/api/deployments', { token: created.body.key })).status).toBe(200);
    expect(
      (await call('DELETE', `/api/auth/api-keys/${created.body.id}`, { token: owner.token })).status,
    ).toBe(200);
    const entry = keyCacheKey(await sha256Hex(created.body.key));
    expect(await redis.get(entry)).toEqual(MISSING_KEY);
    // A lookup that read the key from the database just before the revocation committed writes it
    // back only where nothing is cached: the tombstone stays, and the key stays refused.
    await redis.set(entry, { keyId: created.body.id }, { ex: 30, nx: true });
    expect(await redis.get(entry)).toEqual(MISSING_KEY);
    expect((await call('GET', '/api/deployments', { token: created.body.key })).status).toBe(401);
  });

  it('keeps a revocation tombstone when a cap change refreshes the key after the revocation', async () => {
    const owner = await signUp('key-refresh-tombstone');
    const created = await call('POST', '/api/auth/api-keys', { token: owner.token, body: { name: 'k' } });
    const entry = keyCacheKey(await sha256Hex(created.body.key));
    // A revocation committed (its tombstone written) after the cap change read the key as live.
    await redis.set(entry, MISSING_KEY, { ex: 30 });
    const capped = await call('PATCH', `/api/auth/api-keys/${created.body.id}`, {
      token: owner.token,
      body: { spend_cap: { daily_cents: 1000 } },
    });
    expect(capped.status).toBe(200);
    expect(await redis.get(entry)).toEqual(MISSING_KEY);
  });
});
