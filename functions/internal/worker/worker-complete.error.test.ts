import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, env, signUp } from '../../../tests/harness/edge.ts';
import { addFunds } from '../../../tests/harness/stripe.ts';
import { createReplica } from '../../../tests/harness/workers.ts';
import { apiKeySubject } from '../../core/billing/caps.ts';
import { costMicroUsd } from '../../core/billing/cost.ts';
import { spendOf } from '../../lib/billing/spend.ts';
import { settleUnsettledJobs } from '../../lib/jobs/repair.ts';
import { createJobQueue } from '../../lib/queue/index.ts';
import { UNSETTLED_KEY } from '../../lib/queue/scripts.ts';
import { createRedis } from '../../lib/redis.ts';

const database = testDatabase();
const redis = createRedis({
  url: env.UPSTASH_REDIS_REST_URL ?? '',
  token: env.UPSTASH_REDIS_REST_TOKEN ?? '',
});
const queue = createJobQueue(redis);
let worker: { replicaId: string; token: string };
let endpointId: string;
let key: { id: string; key: string };
let job: { id: string; attempt: number };
let leasedAt: number;

const complete = (body: unknown, jobId = job.id) =>
  call('POST', `/internal/worker/jobs/${jobId}/complete`, { token: worker.token, body });
const keySpend = async () =>
  (await spendOf(database.db, [apiKeySubject(key.id)], new Date())).get(apiKeySubject(key.id))?.total ?? 0;

/** An async request of the key, leased to the worker as the next job: what the worker reports on. */
async function leaseAsyncJob(content: string): Promise<{ id: string; attempt: number }> {
  const accepted = await call('POST', '/v1/chat/completions', {
    token: key.key,
    headers: { prefer: 'respond-async' },
    body: { model: 'llama', messages: [{ role: 'user', content }] },
  });
  expect(accepted.status).toBe(202);
  const taken = await call('POST', '/internal/worker/jobs/take', {
    token: worker.token,
    body: { max: 1, wait_ms: 0 },
  });
  expect(taken.body.jobs[0].id).toBe(accepted.body.id);
  return taken.body.jobs[0];
}

/**
 * What a worker's finish does in the queue when the edge goes away before writing anything to
 * Postgres: the job is finished there, at its price, after running a quarter of a second.
 */
async function finishInQueueOnly(leased: { id: string; attempt: number }, content: string) {
  await new Promise((resolve) => setTimeout(resolve, 250));
  const price = (await queue.bookkeeping(leased.id)).pricePerHourMicroUsd;
  const finished = await queue.complete(
    leased.id,
    endpointId,
    { replicaId: worker.replicaId, attempt: leased.attempt, pricePerHourMicroUsd: price },
    { choices: [{ message: { role: 'assistant', content } }] },
    200,
    Date.now(),
  );
  expect(finished.done).toBe(true);
  return { cost: costMicroUsd(finished.book.gpuMs / 1000, price) };
}

beforeAll(async () => {
  const owner = await signUp('worker-complete');
  await addFunds(owner.token, 100);
  const created = await call('POST', '/api/deployments', {
    token: owner.token,
    body: { model: 'llama-3.1-8b-instruct' },
  });
  key = created.body.deployment_key;
  const orgId = (await call('GET', '/api/auth/me', { token: owner.token })).body.org_id;
  endpointId = created.body.id;
  worker = await createReplica(database.db, orgId, endpointId);
  leasedAt = Date.now();
  job = await leaseAsyncJob('bill me fairly');
});

afterAll(() => database.close());

describe('a worker finishing a job', () => {
  it('bills at most the time since the job was leased, whatever GPU time the worker claims', async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const claimed = await complete({
      result: { choices: [{ message: { role: 'assistant', content: 'done' } }] },
      gpu_ms: 86_400_000,
      attempt: job.attempt,
    });
    expect(claimed.status).toBe(200);
    const bound = (Date.now() - leasedAt) / 1000;
    const recorded = await call('GET', `/v1/jobs/${job.id}`, { token: key.key });
    expect(recorded.body.status).toBe('succeeded');
    expect(recorded.body.gpu_seconds).toBeGreaterThan(0.2);
    expect(recorded.body.gpu_seconds).toBeLessThanOrEqual(bound);
    // A day at the Llama price would be about $24; the job had a fraction of a second.
    expect(recorded.body.cost_usd).toBeLessThan(0.01);
    expect(await keySpend()).toBeGreaterThan(0);
    expect(await keySpend()).toBeLessThan(10_000);
  });

  it('keeps a recorded success, and its spend counted once, when the worker retries with a failure', async () => {
    const spent = await keySpend();
    // The worker never saw the first reply, gave up on its result and reports a failure instead.
    const retried = await complete({
      error: { message: 'engine failure: result not delivered', type: 'engine_error' },
      gpu_ms: 500,
      attempt: job.attempt,
    });
    expect(retried.status).toBe(200);
    const recorded = await call('GET', `/v1/jobs/${job.id}`, { token: key.key });
    expect(recorded.body.status).toBe('succeeded');
    expect(recorded.body.result.choices[0].message.content).toBe('done');
    expect(recorded.body.error).toBeNull();
    expect(await keySpend()).toBe(spent);
  });

  it('counts the spend once when the edge finished the job but died before counting it', async () => {
    const second = await leaseAsyncJob('count me once');
    const before = await keySpend();
    const { cost } = await finishInQueueOnly(second, 'counted');
    expect(cost).toBeGreaterThan(0);
    expect(await keySpend()).toBe(before);

    // The worker, never answered, retries; then retries again.
    for (let i = 0; i < 2; i++) {
      const retried = await complete(
        {
          result: { choices: [{ message: { role: 'assistant', content: 'counted' } }] },
          gpu_ms: 200,
          attempt: second.attempt,
        },
        second.id,
      );
      expect(retried.status).toBe(200);
    }
    expect(await keySpend()).toBe(before + cost);
    const recorded = await call('GET', `/v1/jobs/${second.id}`, { token: key.key });
    expect(recorded.body.status).toBe('succeeded');
  });

  it('records a job the queue ended but nobody recorded, at the next minute sweep, not its deadline', async () => {
    const third = await leaseAsyncJob('record me');
    // The edge finished it in the queue and went away; so did the worker, and nobody retried.
    const { cost } = await finishInQueueOnly(third, 'recorded late');
    expect(cost).toBeGreaterThan(0);
    const before = await keySpend();
    const row = async () => (await database.db.select().from(jobs).where(eq(jobs.id, third.id)))[0];
    // Within the minute its own recorder gets, the sweep leaves it alone.
    await settleUnsettledJobs(testContext(database.db, { now: () => new Date() }).ctx);
    expect((await row())?.completedAt).toBeNull();

    // Two minutes on (its listing dated back, rather than sweeping with a clock set ahead, which
    // would sweep other test files' jobs between their finish and their recording).
    await redis.zadd(UNSETTLED_KEY, { score: Date.now() - 120_000, member: third.id });
    expect(
      await settleUnsettledJobs(testContext(database.db, { now: () => new Date() }).ctx),
    ).toBeGreaterThanOrEqual(1);
    const recorded = await row();
    expect(recorded?.state).toBe('succeeded');
    expect(recorded?.output).toMatchObject({ choices: [{ message: { content: 'recorded late' } }] });
    // The key's spend, which nobody counted, is counted too.
    expect(await keySpend()).toBe(before + cost);
    // Off the list: a later sweep has nothing more to do for it.
    expect(await queue.unsettled(Date.now(), 10_000)).not.toContain(third.id);
  });

  it('ends a job whose result nests too deeply to keep as the engine failing, and refuses malformed reports', async () => {
    const deep = await leaseAsyncJob('nest');
    // A report with a field the worker API does not know is refused, and changes nothing.
    const extra = await complete(
      { error: { message: 'x', detail: 'y' }, gpu_ms: 1, attempt: deep.attempt },
      deep.id,
    );
    expect(extra.status).toBe(400);
    expect(await queue.state(deep.id)).toBe('running');

    // Sent as text: serializing it here would exhaust this process's stack, as it did the edge's.
    const nested = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const finished = await complete(`{"result":${nested},"gpu_ms":5,"attempt":${deep.attempt}}`, deep.id);
    expect(finished.status).toBe(200);
    const view = await call('GET', `/v1/jobs/${deep.id}`, { token: key.key });
    expect(view.status).toBe(200);
    expect(view.body.status).toBe('failed');
    expect(view.body.error).toMatchObject({
      type: 'engine_error',
      message: expect.stringContaining('deeper than 100'),
    });
  });

  it('refuses log lines whose time is not a timestamp', async () => {
    for (const at of ['not a date', '', '2026-13-45T00:00:00Z']) {
      const refused = await call('POST', '/internal/worker/logs', {
        token: worker.token,
        body: { lines: [{ at, line: 'hello' }] },
      });
      expect(refused.status, at).toBe(400);
    }
    const accepted = await call('POST', '/internal/worker/logs', {
      token: worker.token,
      body: { lines: [{ at: new Date().toISOString(), line: 'hello' }] },
    });
    expect(accepted.status).toBe(200);
  });
});
