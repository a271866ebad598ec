import { afterAll, describe, expect, it } from 'vitest';
import { insertEndpoint, testDatabase } from '../../../tests/harness/db.ts';
import { call, env, signUp } from '../../../tests/harness/edge.ts';
import { keyCacheKey, MISSING_KEY } from '../../core/api-keys/cache.ts';
import { generateApiKey } from '../../core/api-keys/format.ts';
import { sha256Hex } from '../../core/auth/secrets.ts';
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
      [{ name: 'd', kind: 'account', endpoint_id: 'ep_x' }, 'endpoint_id'],
      [{ name: 'd', kind: 'deployment', endpoint_id: 'ep_x', role: 'admin' }, 'role'],
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

  it('does not let a capped key lift its cap, directly or through a key or deployment it makes', async () => {
    const owner = await signUp('capped');
    const capped = (
      await call('POST', '/api/auth/api-keys', {
        token: owner.token,
        body: { name: 'capped', role: 'developer', spend_cap: { daily_cents: 2000 } },
      })
    ).body;
    const asCapped = (method: string, path: string, body?: unknown) =>
      call(method, path, { token: capped.key, body });
    for (const [method, path, body] of [
      ['PATCH', `/api/auth/api-keys/${capped.id}`, { spend_cap: { daily_cents: null } }],
      ['PATCH', `/api/auth/api-keys/${capped.id}`, { spend_cap: { daily_cents: 2001 } }],
      ['POST', '/api/auth/api-keys', { name: 'loose', spend_cap: { daily_cents: 5000 } }],
      ['POST', '/api/auth/api-keys', { name: 'loose', spend_cap: { daily_cents: null } }],
    ] as const) {
      const refused = await asCapped(method, path, body);
      expect(refused.status, `${method} ${JSON.stringify(body)}`).toBe(403);
      expect(refused.body.error).toMatchObject({ type: 'permission_error', param: 'spend_cap' });
      expect(refused.body.error.message).toContain('capped at $20.00 a day');
    }
    // Nor through a key it regenerates: an uncapped key's replacement would be uncapped.
    const uncapped = (
      await call('POST', '/api/auth/api-keys', { token: owner.token, body: { name: 'free', role: 'viewer' } })
    ).body;
    const regenerated = await asCapped('POST', `/api/auth/api-keys/${uncapped.id}/regenerate`);
    expect(regenerated.status).toBe(403);
    expect(regenerated.body.error).toMatchObject({ type: 'permission_error', param: 'spend_cap' });
    expect((await call('GET', '/api/org', { token: uncapped.key })).status).toBe(200);
    // An inherited daily cap above the monthly one asked for is a contradiction, named.
    const contradictory = await asCapped('POST', '/api/auth/api-keys', {
      name: 'c',
      spend_cap: { monthly_cents: 1000 },
    });
    expect(contradictory.status).toBe(400);
    expect(contradictory.body.error).toMatchObject({ type: 'invalid_request_error', param: 'spend_cap' });
    const own = await call('GET', `/api/auth/api-keys/${capped.id}`, { token: owner.token });
    expect(own.body.spend_cap).toEqual({ daily_cents: 2000, monthly_cents: null });

    // Within its cap it manages keys as before; one made without a cap gets its own.
    const tighter = await asCapped('POST', '/api/auth/api-keys', {
      name: 't',
      spend_cap: { daily_cents: 500 },
    });
    expect(tighter.body.spend_cap).toEqual({ daily_cents: 500, monthly_cents: null });
    const inherited = await asCapped('POST', '/api/auth/api-keys', {
      name: 'i',
      spend_cap: { monthly_cents: 9000 },
    });
    expect(inherited.body.spend_cap).toEqual({ daily_cents: 2000, monthly_cents: 9000 });
    const deployment = await asCapped('POST', '/api/deployments', { model: 'llama-3.1-8b-instruct' });
    expect(deployment.status).toBe(201);
    const deploymentKey = await call('GET', `/api/auth/api-keys/${deployment.body.deployment_key.id}`, {
      token: owner.token,
    });
    expect(deploymentKey.body.spend_cap).toEqual({ daily_cents: 2000, monthly_cents: null });

    // A person with the role decides: the owner lifts it.
    const lifted = await call('PATCH', `/api/auth/api-keys/${capped.id}`, {
      token: owner.token,
      body: { spend_cap: { daily_cents: null } },
    });
    expect(lifted.body.spend_cap).toEqual({ daily_cents: null, monthly_cents: null });
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
});
