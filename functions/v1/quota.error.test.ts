import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs, replicaEvents, replicas } from '../../db/schema/index.ts';
import { testDatabase } from '../../tests/harness/db.ts';
import { call, signUp } from '../../tests/harness/edge.ts';
import { addFunds } from '../../tests/harness/stripe.ts';
import { createReplica, signedReconcile, startEdgeServer } from '../../tests/harness/workers.ts';
import { orgAccount, PLATFORM_ACCOUNTS, postTransaction } from '../core/billing/ledger.ts';

const database = testDatabase();
let edge: Awaited<ReturnType<typeof startEdgeServer>>;
let token: string;
let orgId: string;
let deployment: { id: string; key: string };

const chat = (headers: Record<string, string> = {}) =>
  call('POST', '/v1/chat/completions', {
    body: { model: 'llama-3.1-8b-instruct', messages: [{ role: 'user', content: 'hi' }] },
    headers: { authorization: `Bearer ${deployment.key}`, prefer: 'respond-async', ...headers },
  });

/** Usage recorded past zero, as a metering run does (usage already consumed is charged whatever the balance). */
const spend = (microUsd: number, key: string) =>
  database.db.transaction((tx) =>
    postTransaction(tx, {
      kind: 'usage',
      idempotencyKey: `${orgId}:${key}`,
      description: 'GPU time',
      lines: [
        { orgId, account: orgAccount(orgId), amountMicroUsd: -microUsd },
        { orgId: null, account: PLATFORM_ACCOUNTS.revenue, amountMicroUsd: microUsd },
      ],
    }),
  );

beforeAll(async () => {
  edge = await startEdgeServer({}, { publicUrlIsSelf: true });
  token = (await signUp('quota')).token;
  orgId = (await call('GET', '/api/auth/me', { token })).body.org_id;
  const created = await call('POST', '/api/deployments', { token, body: { model: 'llama-3.1-8b-instruct' } });
  deployment = { id: created.body.id, key: created.body.deployment_key.key };
});
afterAll(async () => {
  await edge.close();
  await database.close();
});

describe('a prepaid balance', () => {
  it('refuses inference with 402 insufficient_quota before any funds, queuing nothing', async () => {
    const refused = await chat();
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(refused.body.error.message).toMatch(/balance is \$0\.00/);
    expect(await database.db.select().from(jobs).where(eq(jobs.orgId, orgId))).toEqual([]);
  });

  it('names a bad header or webhook as such (400) whatever the balance', async () => {
    for (const [headers, param] of [
      [{ 'cancel-after': '-5' }, 'cancel-after'],
      [{ 'idempotency-key': 'x'.repeat(10_000) }, 'idempotency-key'],
    ] as const) {
      const refused = await chat(headers);
      expect(refused.status, param).toBe(400);
      expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    const privateHook = await call('POST', '/v1/chat/completions', {
      body: {
        model: 'llama-3.1-8b-instruct',
        messages: [{ role: 'user', content: 'hi' }],
        webhook: 'https://10.0.0.1/hook',
      },
      headers: { authorization: `Bearer ${deployment.key}` },
    });
    expect(privateHook.status).toBe(400);
    expect(privateHook.body.error.param).toBe('webhook');
  });

  it('accepts work once funds arrive', async () => {
    await addFunds(token, 10);
    const accepted = await chat();
    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe('queued');
  });

  it('at zero, refuses new work and scales the endpoint to zero; a top-up resumes it', async () => {
    const replica = await createReplica(database.db, orgId, deployment.id);
    await database.db
      .update(replicas)
      .set({ state: 'active', activeAt: new Date(), lastHeartbeatAt: new Date() })
      .where(eq(replicas.id, replica.replicaId));
    await spend(10_050_000, 'drain');

    const refused = await chat();
    expect(refused.status).toBe(402);
    expect(refused.body.error.message).toMatch(/balance is -\$0\.05/);

    const reconciled = await signedReconcile(edge.url, { endpoint_id: deployment.id });
    expect(reconciled.status).toBe(200);
    const [row] = await database.db.select().from(replicas).where(eq(replicas.id, replica.replicaId));
    expect(['releasing', 'released']).toContain(row?.state);
    const events = await database.db
      .select()
      .from(replicaEvents)
      .where(eq(replicaEvents.replicaId, replica.replicaId));
    expect(events.map((event) => event.detail)).toContain('the organization has no funds left');

    await addFunds(token, 25);
    expect((await chat({ 'idempotency-key': 'after-top-up' })).status).toBe(202);
  });
});
