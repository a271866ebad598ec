import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replicaEvents, replicas } from '../../db/schema/index.ts';
import { testContext } from '../../tests/harness/context.ts';
import { testDatabase } from '../../tests/harness/db.ts';
import { call, signUp } from '../../tests/harness/edge.ts';
import { addFunds } from '../../tests/harness/stripe.ts';
import {
  createReplica,
  type RunningAgent,
  signedReconcile,
  startAgent,
  startEdgeServer,
} from '../../tests/harness/workers.ts';
import { apiKeySubject } from '../core/billing/caps.ts';
import { meterReplicas } from '../lib/billing/meter.ts';
import { addSpend } from '../lib/billing/spend.ts';

const database = testDatabase();
const { ctx } = testContext(database.db, { now: () => new Date() });
let edge: Awaited<ReturnType<typeof startEdgeServer>>;
const agents: RunningAgent[] = [];
let token: string;
let orgId: string;

interface Deployment {
  id: string;
  key: string;
}
async function deploy(body: Record<string, unknown>): Promise<Deployment> {
  const created = await call('POST', '/api/deployments', {
    token,
    body: { model: 'llama-3.1-8b-instruct', ...body },
  });
  expect(created.status).toBe(201);
  return { id: created.body.id, key: created.body.deployment_key.key };
}

const chat = (key: string, model = 'm') =>
  call('POST', '/v1/chat/completions', {
    body: { model, messages: [{ role: 'user', content: 'hi' }] },
    headers: { authorization: `Bearer ${key}`, prefer: 'respond-async' },
  });

/**
 * An active replica of the deployment that has run `minutes` so far (metered up to now), at $1.20 a
 * minute: one complete minute today is past a $1.00 daily cap. Today has no complete minute in the
 * first minute after 00:00 UTC, so that minute is waited out.
 */
async function runningFor(deployment: Deployment, minutes: number) {
  const sinceMidnightMs = Date.now() % 86_400_000;
  if (sinceMidnightMs < 61_000) await new Promise((resolve) => setTimeout(resolve, 61_000 - sinceMidnightMs));
  const replica = await createReplica(database.db, orgId, deployment.id);
  const startedAt = new Date(Date.now() - minutes * 60_000);
  await database.db
    .update(replicas)
    .set({
      state: 'active',
      activeAt: startedAt,
      lastHeartbeatAt: new Date(),
      pricePerHourMicroUsd: 72_000_000,
    })
    .where(eq(replicas.id, replica.replicaId));
  return replica;
}

beforeAll(async () => {
  edge = await startEdgeServer({}, { publicUrlIsSelf: true });
  token = (await signUp('spend-caps')).token;
  orgId = (await call('GET', '/api/auth/me', { token })).body.org_id;
  await addFunds(token, 100);
});
afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop('SIGKILL')));
  await edge.close();
  await database.close();
});

describe('spend caps', () => {
  // Up to a minute longer just after midnight UTC (see runningFor).
  it('stops a deployment at its daily cap (402, scaled to zero) while the others keep working', {
    timeout: 90_000,
  }, async () => {
    const capped = await deploy({ name: 'capped', spend_cap: { daily_cents: 100 } });
    const free = await deploy({ name: 'uncapped' });
    expect((await call('GET', `/api/deployments/${capped.id}`, { token })).body.spend_cap).toEqual({
      daily_cents: 100,
      monthly_cents: null,
    });
    // $72/hour for 20 minutes, metered: past the $1.00 cap (at least a minute of it falls today).
    const replica = await runningFor(capped, 20);
    await meterReplicas(ctx);
    const runtime = (await call('GET', `/api/deployments/${capped.id}`, { token })).body.runtime;
    expect(runtime.cost.per_hour_usd).toBe(72);
    expect(runtime.cost.today_usd).toBeGreaterThanOrEqual(1.2);

    const refused = await chat(capped.key);
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(refused.body.error.message).toBe(
      'This deployment reached its daily spend cap of $1.00. It resumes at 00:00 UTC, or raise the cap.',
    );
    expect((await chat(free.key)).status).toBe(202);

    expect((await signedReconcile(edge.url, { endpoint_id: capped.id })).status).toBe(200);
    const events = await database.db
      .select()
      .from(replicaEvents)
      .where(eq(replicaEvents.replicaId, replica.replicaId));
    expect(events.map((event) => event.detail)).toContain('the deployment reached its spend cap');

    const raised = await call('PATCH', `/api/deployments/${capped.id}`, {
      token,
      body: { spend_cap: { daily_cents: 10_000 } },
    });
    expect(raised.body.spend_cap.daily_cents).toBe(10_000);
    expect((await chat(capped.key)).status).toBe(202);
  });

  it("stops an API key at its cap on its requests' GPU time while other keys keep working", async () => {
    const target = await deploy({ name: 'shared' });
    const created = await call('POST', '/api/auth/api-keys', {
      token,
      body: { name: 'capped key', spend_cap: { daily_cents: 100 } },
    });
    expect(created.status).toBe(201);
    expect(created.body.spend_cap).toEqual({ daily_cents: 100, monthly_cents: null });
    const key = created.body.key as string;

    const replica = await createReplica(database.db, orgId, target.id);
    agents.push(
      startAgent({ edgeUrl: edge.url, token: replica.token, replicaId: replica.replicaId, tokenDelayMs: 20 }),
    );
    // Just under the cap: the next job's GPU time takes the key over it.
    await addSpend(database.db, apiKeySubject(created.body.id), new Date(), 999_999);
    const sdk = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: key, maxRetries: 0 });
    const answer = await sdk.chat.completions.create({
      model: target.id,
      messages: [{ role: 'user', content: 'spend a little' }],
    });
    expect(answer.choices[0]?.message.content).toContain('spend a little');
    // Counted as the worker's completion is handled, which may finish just after the answer reached us.
    await expect
      .poll(
        async () =>
          (await call('GET', `/api/auth/api-keys/${created.body.id}`, { token })).body.spend.today_usd,
      )
      .toBeGreaterThan(0.999999);

    const refused = await chat(key, target.id);
    expect(refused.status).toBe(402);
    expect(refused.body.error.message).toMatch(/^This API key reached its daily spend cap of \$1\.00/);
    // The deployment's own key is not capped.
    expect((await chat(target.key)).status).toBe(202);

    // A new secret is no way around the cap: the replacement keeps the key's spend.
    const regenerated = await call('POST', `/api/auth/api-keys/${created.body.id}/regenerate`, { token });
    expect(regenerated.status).toBe(201);
    expect((await chat(regenerated.body.key, target.id)).status).toBe(402);

    const lifted = await call('PATCH', `/api/auth/api-keys/${regenerated.body.id}`, {
      token,
      body: { spend_cap: { daily_cents: null } },
    });
    expect(lifted.status).toBe(200);
    expect(lifted.body.spend_cap.daily_cents).toBeNull();
    expect((await chat(regenerated.body.key, target.id)).status).toBe(202);
  });

  it("counts a job the key's client walked away from against the key's cap", async () => {
    const target = await deploy({ name: 'walked away' });
    const created = await call('POST', '/api/auth/api-keys', {
      token,
      body: { name: 'walker', spend_cap: { daily_cents: 100 } },
    });
    const replica = await createReplica(database.db, orgId, target.id);
    agents.push(
      startAgent({
        edgeUrl: edge.url,
        token: replica.token,
        replicaId: replica.replicaId,
        tokenDelayMs: 100,
      }),
    );
    await addSpend(database.db, apiKeySubject(created.body.id), new Date(), 999_999);
    const sdk = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: created.body.key, maxRetries: 0 });
    const leaving = new AbortController();
    const stream = await sdk.chat.completions.create(
      { model: target.id, messages: [{ role: 'user', content: 'a long answer please' }], stream: true },
      { signal: leaving.signal },
    );
    // Gone after the first tokens: the edge cancels the job, and what it ran is the key's to pay.
    for await (const _chunk of stream) {
      leaving.abort();
      break;
    }
    await expect
      .poll(
        async () =>
          (await call('GET', `/api/auth/api-keys/${created.body.id}`, { token })).body.spend.today_usd,
      )
      .toBeGreaterThan(0.999999);
    expect((await chat(created.body.key, target.id)).status).toBe(402);
  });

  it('refuses malformed caps and keeps the old ones', async () => {
    const deployment = await deploy({ name: 'bad caps', spend_cap: { monthly_cents: 5000 } });
    for (const [spend_cap, param] of [
      [{ daily_cents: 12.5 }, 'spend_cap.daily_cents'],
      [{ daily_cents: 10 }, 'spend_cap.daily_cents'],
      [{ daily_cents: 9000, monthly_cents: 5000 }, 'spend_cap.daily_cents'],
      [{ weekly_cents: 100 }, 'spend_cap.weekly_cents'],
      [{}, 'spend_cap'],
    ] as const) {
      const refused = await call('PATCH', `/api/deployments/${deployment.id}`, {
        token,
        body: { spend_cap },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.param).toBe(param);
    }
    const kept = await call('GET', `/api/deployments/${deployment.id}`, { token });
    expect(kept.body.spend_cap).toEqual({ daily_cents: null, monthly_cents: 5000 });
    const key = await call('POST', '/api/auth/api-keys', { token, body: { name: 'cap-less' } });
    const emptyCap = await call('PATCH', `/api/auth/api-keys/${key.body.id}`, {
      token,
      body: { spend_cap: {} },
    });
    expect(emptyCap.status).toBe(400);
    expect(emptyCap.body.error.param).toBe('spend_cap');
  });
});
