import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, env, signUp } from '../../../tests/harness/edge.ts';
import { addFunds } from '../../../tests/harness/stripe.ts';
import { createReplica } from '../../../tests/harness/workers.ts';
import { createJobQueue } from '../../lib/queue/index.ts';
import { createRedis } from '../../lib/redis.ts';

const database = testDatabase();
const queue = createJobQueue(
  createRedis({ url: env.UPSTASH_REDIS_REST_URL ?? '', token: env.UPSTASH_REDIS_REST_TOKEN ?? '' }),
);
let holder: string;
let other: string;
let jobs: { id: string; attempt: number }[];

const relay = (token: string, batches: unknown) =>
  call('POST', '/internal/worker/jobs/events', { token, body: { batches } });

beforeAll(async () => {
  const owner = await signUp('worker-relay');
  await addFunds(owner.token, 100);
  const created = await call('POST', '/api/deployments', {
    token: owner.token,
    body: { model: 'llama-3.1-8b-instruct' },
  });
  const orgId = (await call('GET', '/api/auth/me', { token: owner.token })).body.org_id;
  for (const content of ['one', 'two']) {
    const accepted = await call('POST', '/v1/chat/completions', {
      token: created.body.deployment_key.key,
      headers: { prefer: 'respond-async' },
      body: { model: 'llama', messages: [{ role: 'user', content }] },
    });
    expect(accepted.status).toBe(202);
  }
  holder = (await createReplica(database.db, orgId, created.body.id)).token;
  other = (await createReplica(database.db, orgId, created.body.id)).token;
  const taken = await call('POST', '/internal/worker/jobs/take', {
    token: holder,
    body: { max: 2, wait_ms: 0 },
  });
  jobs = taken.body.jobs;
  expect(jobs).toHaveLength(2);
});

afterAll(() => database.close());

const chunksOf = async (jobId: string) =>
  (await queue.read(jobId, '0', 10)).events.flatMap((event) => (event.type === 'chunk' ? [event.data] : []));

describe('output relay through the worker API', () => {
  it('relays several jobs’ output in one call, once per batch even when a batch is resent', async () => {
    const [first, second] = jobs as [{ id: string; attempt: number }, { id: string; attempt: number }];
    const batches = [
      { job_id: first.id, attempt: first.attempt, seq: 1, chunks: [{ delta: 'a' }, { delta: 'b' }] },
      { job_id: second.id, attempt: second.attempt, seq: 1, chunks: [{ delta: 'c' }] },
    ];
    const sent = await relay(holder, batches);
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ kept: [true, true] });
    // The reply was lost and the worker sends the same batches again: nothing is appended twice.
    expect((await relay(holder, batches)).body).toEqual({ kept: [true, true] });
    expect(await chunksOf(first.id)).toEqual([{ delta: 'a' }, { delta: 'b' }]);
    expect(await chunksOf(second.id)).toEqual([{ delta: 'c' }]);
  });

  it('answers false, per job, for a job that is not the caller’s, and appends nothing to it', async () => {
    const [first, second] = jobs as [{ id: string; attempt: number }, { id: string; attempt: number }];
    const stale = await relay(holder, [
      { job_id: first.id, attempt: first.attempt + 1, seq: 2, chunks: [{ delta: 'x' }] },
      { job_id: second.id, attempt: second.attempt, seq: 2, chunks: [{ delta: 'd' }] },
    ]);
    expect(stale.body).toEqual({ kept: [false, true] });
    const foreign = await relay(other, [
      { job_id: second.id, attempt: second.attempt, seq: 3, chunks: [{ delta: 'y' }] },
    ]);
    expect(foreign.body).toEqual({ kept: [false] });
    expect(await chunksOf(first.id)).toEqual([{ delta: 'a' }, { delta: 'b' }]);
    expect(await chunksOf(second.id)).toEqual([{ delta: 'c' }, { delta: 'd' }]);
  });

  it('refuses a malformed call with a 400 naming the problem', async () => {
    const [first] = jobs as [{ id: string; attempt: number }];
    const batch = { job_id: first.id, attempt: first.attempt, seq: 9, chunks: [] };
    for (const batches of [[], [batch, batch], [{ ...batch, job_id: 'not-a-job' }], [{ ...batch, seq: 0 }]]) {
      const refused = await relay(holder, batches);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ type: 'invalid_request_error' });
      expect(typeof refused.body.error.message).toBe('string');
    }
    // A chunk nested past what can be serialized again on the way to the client.
    const deep = JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`);
    const nested = await relay(holder, [{ ...batch, chunks: [deep] }]);
    expect(nested.status).toBe(400);
    expect(nested.body.error.message).toContain('deeper than 100');
    expect((await relay('wt_not-a-real-token-at-all-000000', [batch])).status).toBe(401);
  });
});
