import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replicas } from '../../../db/schema/index.ts';
import { liveReplicas as liveReplicasOf, testDatabase } from '../../../tests/harness/db.ts';
import { call, env, PASSWORD, signUp } from '../../../tests/harness/edge.ts';
import { startLossyProxy } from '../../../tests/harness/lossy-proxy.ts';
import { addFunds } from '../../../tests/harness/stripe.ts';
import { killReplicaProcess, signedReconcile, startEdgeServer } from '../../../tests/harness/workers.ts';
import { LocalComputeProvider } from '../../lib/compute/local.ts';

const database = testDatabase();
let edge: Awaited<ReturnType<typeof startEdgeServer>>;
let token: string;
let user: Awaited<ReturnType<typeof signUp>>;
const deployed: string[] = [];
const compute = new LocalComputeProvider(env.LOCAL_COMPUTE_URL ?? '', env.LOCAL_COMPUTE_TOKEN);

const liveReplicas = (endpointId: string) => liveReplicasOf(database.db, endpointId);

const waitFor = async (check: () => Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/** A reconcile call signed as QStash signs it (the schedule, or a nudge). */
const reconcile = (body: unknown, signingKey?: string) => signedReconcile(edge.url, body, signingKey);

async function deploy(knobs: Record<string, unknown>) {
  const created = await call('POST', '/api/deployments', {
    token,
    body: { model: 'llama-3.1-8b-instruct', ...knobs },
  });
  expect(created.status).toBe(201);
  deployed.push(created.body.id);
  return {
    id: created.body.id as string,
    client: new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: created.body.deployment_key.key, maxRetries: 0 }),
  };
}

beforeAll(async () => {
  // QStash and the local compute provider call the edge back at PUBLIC_URL: this server.
  edge = await startEdgeServer({}, { publicUrlIsSelf: true });
  user = await signUp('orchestrator');
  token = user.token;
  await addFunds(token, 100);
});

afterAll(async () => {
  // Stop every deployment of the test and reconcile: the orchestrator stops their worker processes.
  for (const id of deployed) await call('POST', `/api/deployments/${id}/stop`, { token });
  await reconcile({});
  await edge?.close();
  await database.close();
});

describe('scale to zero and back', () => {
  it('wakes a scaled-to-zero endpoint on the first request, serves it, and releases the replica when idle', async () => {
    const { id, client } = await deploy({ min_replicas: 0, max_replicas: 2, idle_timeout_seconds: 10 });
    expect(await liveReplicas(id)).toEqual([]);
    const before = await call('GET', `/api/deployments/${id}`, { token });
    expect(before.body.runtime).toEqual({
      status: 'scaled_to_zero',
      replicas: { active: 0, starting: 0 },
      failed_starts: 0,
      queue: { queued: 0, running: 0 },
      cold_start_estimate_seconds: null,
      cost: { per_hour_usd: 0, today_usd: 0, month_usd: 0, total_usd: 0 },
    });

    const reply = await client.chat.completions.create({
      model: 'llama',
      messages: [{ role: 'user', content: 'wake up' }],
    });
    expect(reply.choices[0]?.message.content).toContain('You said: "wake up"');
    const [replica] = await liveReplicas(id);
    expect(replica).toMatchObject({ state: 'active', provider: 'local' });
    expect(replica?.activeAt).not.toBeNull();
    // The replica's busy time is counted as its jobs finish (just after the answer reaches us) and
    // written to its row when the minute schedule meters it.
    await waitFor(async () => {
      expect((await reconcile({})).status).toBe(200);
      return ((await liveReplicas(id))[0]?.busySeconds ?? 0) > 0;
    });
    const after = (await call('GET', `/api/deployments/${id}`, { token })).body.runtime;
    expect(after).toMatchObject({ status: 'running', replicas: { active: 1, starting: 0 } });
    expect(after.cold_start_estimate_seconds).toBeGreaterThan(0);
    expect(after.cold_start_estimate_seconds).toBeLessThan(30);
    // The running replica costs its hourly price, and its unmetered time already shows.
    const catalog = await call('GET', '/api/models/llama-3.1-8b-instruct', { token });
    expect(after.cost.per_hour_usd).toBe(catalog.body.price_per_hour_usd);
    expect(after.cost.total_usd).toBeGreaterThan(0);
    expect(after.cost.today_usd).toBe(after.cost.total_usd);

    // Not idle long enough yet: the schedule keeps it.
    const early = await reconcile({ endpoint_id: id });
    expect(early.status).toBe(200);
    expect((await early.json()).endpoints[0]).toMatchObject({ desired: 0, start: 0, release: [] });

    await new Promise((resolve) => setTimeout(resolve, 10_500));
    const late = await (await reconcile({})).json();
    expect(late.endpoints.find((e: { endpoint_id: string }) => e.endpoint_id === id)).toMatchObject({
      desired: 0,
      release: [{ id: replica?.id, reason: 'idle' }],
    });
    const [released] = await database.db
      .select()
      .from(replicas)
      .where(eq(replicas.id, replica?.id ?? ''));
    expect(released).toMatchObject({ state: 'released' });
    expect(released?.releasedAt).not.toBeNull();
    const events = await call('GET', `/api/deployments/${id}/events`, { token });
    expect(events.status).toBe(200);
    expect(events.body.data.map((event: { state: string }) => event.state)).toEqual([
      'released',
      'releasing',
      'active',
      'provisioning',
      'requested',
    ]);
    expect(events.body.data[2].detail).toMatch(/^worker ready \d+\.\d s after the request$/);
    expect(events.body.data[0].detail).toBe('idle for the idle timeout');
    const processes = await compute.list();
    expect(processes.find((p) => p.replicaId === replica?.id)?.status).toBe('stopped');
  }, 60_000);

  it('wakes a scaled-to-zero endpoint when the first enqueue’s reply was lost and the client retried it', async () => {
    const { id, client } = await deploy({ min_replicas: 0, max_replicas: 1 });
    // The edge reaches Redis through a proxy that loses the reply to this request's enqueue once: the
    // Redis client runs it again and hears "already queued", before any nudge was sent.
    let lost = 0;
    const redis = await startLossyProxy(env.UPSTASH_REDIS_REST_URL ?? '', ({ body, status }) => {
      if (lost > 0 || status !== 200 || !body.includes('wake-after-lost-reply')) return false;
      lost++;
      return true;
    });
    const flaky = await startEdgeServer({ UPSTASH_REDIS_REST_URL: redis.url, PUBLIC_URL: edge.url });
    try {
      const reply = await new OpenAI({
        baseURL: `${flaky.url}/v1`,
        apiKey: client.apiKey,
        maxRetries: 0,
      }).chat.completions.create(
        { model: 'm', messages: [{ role: 'user', content: 'wake up anyway' }] },
        { headers: { 'Idempotency-Key': 'wake-after-lost-reply' }, timeout: 20_000 },
      );
      expect(lost).toBe(1);
      expect(reply.choices[0]?.message.content).toContain('You said: "wake up anyway"');
      expect((await liveReplicas(id)).length).toBe(1);
    } finally {
      await flaky.close();
      await redis.close();
    }
  });

  it('refuses unsigned and wrongly signed calls, starting nothing', async () => {
    const { id } = await deploy({ min_replicas: 1 });
    const unsigned = await fetch(`${edge.url}/internal/orchestrator/reconcile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint_id: id }),
    });
    expect(unsigned.status).toBe(401);
    const forged = await reconcile({ endpoint_id: id }, 'sig_not_the_key');
    expect(forged.status).toBe(401);
    expect(await liveReplicas(id)).toEqual([]);
  });

  it('starts one replica however many duplicate nudges arrive at once', async () => {
    const { id } = await deploy({ min_replicas: 1, max_replicas: 3 });
    const answers = await Promise.all(Array.from({ length: 6 }, () => reconcile({ endpoint_id: id })));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await liveReplicas(id)).toHaveLength(1);
    await waitFor(async () => (await liveReplicas(id))[0]?.state === 'active');
    await call('POST', `/api/deployments/${id}/stop`, { token });
    await reconcile({ endpoint_id: id });
    expect(await liveReplicas(id)).toEqual([]);
  }, 60_000);

  it('replaces a replica whose worker process dies mid-job, and the job completes once', async () => {
    // Slow tokens (the development engine reads DEV_TOKEN_DELAY_MS): the job is still running when killed.
    const { id, client } = await deploy({ min_replicas: 0, env: { DEV_TOKEN_DELAY_MS: '250' } });
    const accepted = await client.chat.completions
      .create(
        { model: 'm', messages: [{ role: 'user', content: 'survive the crash' }] },
        { headers: { prefer: 'respond-async' } },
      )
      .asResponse();
    expect(accepted.status).toBe(202);
    const { id: jobId } = (await accepted.json()) as { id: string };
    const job = async () =>
      (
        await fetch(`${edge.url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${client.apiKey}` } })
      ).json();
    await waitFor(async () => (await job()).status === 'running');
    const [doomed] = await liveReplicas(id);
    expect(killReplicaProcess(doomed?.id ?? '')).toBe(true);
    await waitFor(
      async () => (await compute.list()).find((p) => p.replicaId === doomed?.id)?.status === 'failed',
    );

    expect((await reconcile({})).status).toBe(200);
    const [dead] = await database.db
      .select()
      .from(replicas)
      .where(eq(replicas.id, doomed?.id ?? ''));
    expect(dead).toMatchObject({ state: 'failed', failureReason: 'killed by SIGKILL' });
    const [replacement] = await liveReplicas(id);
    expect(replacement?.id).not.toBe(doomed?.id);

    await waitFor(async () => (await job()).status === 'succeeded', 40_000);
    const finished = await job();
    expect(finished.result.choices[0].message.content).toContain('You said: "survive the crash"');
    const states = (await call('GET', `/api/deployments/${id}/events`, { token })).body.data
      .filter((event: { replica_id: string }) => event.replica_id === doomed?.id)
      .map((event: { state: string }) => event.state);
    expect(states).toEqual(['failed', 'active', 'provisioning', 'requested']);
  }, 90_000);

  it('keeps a replica whose worker polls on while its heartbeat could not reach Postgres', async () => {
    const { id, client } = await deploy({ min_replicas: 1 });
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'up' }] });
    const [replica] = await liveReplicas(id);
    // The heartbeats of the last five minutes never landed (Neon unreachable), but the worker kept
    // polling the queue: it is alive, and releasing it would drop a warm replica for nothing.
    await database.db
      .update(replicas)
      .set({ lastHeartbeatAt: new Date(Date.now() - 5 * 60_000) })
      .where(eq(replicas.id, replica?.id ?? ''));
    const plan = await (await reconcile({ endpoint_id: id })).json();
    expect(plan.endpoints[0]).toMatchObject({ desired: 1, start: 0, release: [] });
    expect((await liveReplicas(id)).map((r) => r.id)).toEqual([replica?.id]);
  }, 60_000);

  it('fails a replica the provider reports ended and replaces it at once, each time; a report about a running one changes nothing', async () => {
    const { id } = await deploy({ min_replicas: 1, max_replicas: 1 });
    await reconcile({ endpoint_id: id });
    await waitFor(async () => (await liveReplicas(id))[0]?.state === 'active');
    const [running] = await liveReplicas(id);
    const replicaId = running?.id ?? '';

    // A stale or forged report: the provider still runs the replica, so nothing changes.
    const untrue = await reconcile({ replica_ended: { replica_id: replicaId, reason: 'made up' } });
    expect(untrue.status).toBe(200);
    expect((await liveReplicas(id)).map((replica) => replica.id)).toEqual([replicaId]);

    expect(killReplicaProcess(replicaId)).toBe(true);
    await waitFor(
      async () => (await compute.list()).find((p) => p.replicaId === replicaId)?.status === 'failed',
    );
    const reported = await reconcile({ replica_ended: { replica_id: replicaId, reason: 'task stopped' } });
    expect(reported.status).toBe(200);
    expect((await reported.json()).endpoints).toEqual([
      expect.objectContaining({ endpoint_id: id, start: 1 }),
    ]);
    const [dead] = await database.db.select().from(replicas).where(eq(replicas.id, replicaId));
    // The provider's own reason is kept over the report's.
    expect(dead).toMatchObject({ state: 'failed', failureReason: 'killed by SIGKILL' });
    const [replacement] = await liveReplicas(id);
    expect(replacement?.id).toBeDefined();
    expect(replacement?.id).not.toBe(replicaId);

    // Reported again (QStash redelivers), with a long reason as ECS gives one: accepted, the replacement
    // is not failed, nothing more starts.
    const longReason = `CannotPullContainerError: ${'https://example.s3.amazonaws.com/layer '.repeat(40)}`;
    const again = await reconcile({ replica_ended: { replica_id: replicaId, reason: longReason } });
    expect(again.status).toBe(200);
    expect((await liveReplicas(id)).map((replica) => replica.id)).toEqual([replacement?.id]);

    // Named by the provider's own reference instead (all an EC2 instance event carries).
    await waitFor(async () => (await liveReplicas(id))[0]?.state === 'active');
    const [second] = await liveReplicas(id);
    expect(killReplicaProcess(second?.id ?? '')).toBe(true);
    await waitFor(
      async () => (await compute.list()).find((p) => p.replicaId === second?.id)?.status === 'failed',
    );
    const byReference = await reconcile({
      replica_ended: { provider_ref: second?.providerRef ?? '', reason: 'terminated' },
    });
    expect(byReference.status).toBe(200);
    // Each had become ready (the image works): replaced at once however soon it ended, no backoff.
    expect((await byReference.json()).endpoints).toEqual([
      expect.objectContaining({ endpoint_id: id, start: 1 }),
    ]);
    const [third] = await liveReplicas(id);
    expect(third?.id).toBeDefined();
    expect(third?.id).not.toBe(second?.id);
  }, 90_000);

  it('starts, stops and restarts replicas within seconds of the API call, without the minute schedule', async () => {
    // Through this server: its reconcile messages come back to it (PUBLIC_URL is itself), and its
    // sessions are its own (tokens name their issuer).
    const login = await fetch(`${edge.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': user.ip },
      body: JSON.stringify({ email: user.email, password: PASSWORD }),
    });
    const { access_token: session } = (await login.json()) as { access_token: string };
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${edge.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const created = await api('POST', '/api/deployments', {
      model: 'llama-3.1-8b-instruct',
      min_replicas: 1,
      max_replicas: 1,
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    deployed.push(id);
    await waitFor(async () => (await liveReplicas(id))[0]?.state === 'active', 15_000);
    const [first] = await liveReplicas(id);

    expect((await api('POST', `/api/deployments/${id}/stop`)).status).toBe(200);
    const stoppedRow = async () =>
      (
        await database.db
          .select()
          .from(replicas)
          .where(eq(replicas.id, first?.id ?? ''))
      )[0];
    await waitFor(async () => (await stoppedRow())?.state === 'released', 15_000);
    expect((await stoppedRow())?.releasedAt).toBeInstanceOf(Date);
    expect(await liveReplicas(id)).toEqual([]);

    expect((await api('POST', `/api/deployments/${id}/start`)).status).toBe(200);
    await waitFor(async () => (await liveReplicas(id))[0]?.state === 'active', 15_000);
  }, 60_000);

  it('bills a catalog model on GPUs it chose for those GPUs, and on its catalog placement at its listed price', async () => {
    const gpuPrice = async (slug: string) =>
      (await call('GET', '/api/gpus', { token })).body.data.find((gpu: { id: string }) => gpu.id === slug)
        .price_per_hour_usd.secure as number;
    const listed = (await call('GET', '/api/models/bge-large-en-v1.5', { token })).body;
    const onCatalog = await deploy({ model: 'bge-large-en-v1.5', min_replicas: 1, max_replicas: 1 });
    const onA100s = await deploy({
      model: 'bge-large-en-v1.5',
      gpu_types: ['a100-80gb'],
      gpu_count: 2,
      min_replicas: 1,
      max_replicas: 1,
    });
    await reconcile({ endpoint_id: onCatalog.id });
    await reconcile({ endpoint_id: onA100s.id });
    const [catalogReplica] = await liveReplicas(onCatalog.id);
    const [a100Replica] = await liveReplicas(onA100s.id);
    expect(catalogReplica?.pricePerHourMicroUsd).toBe(listed.price_per_hour_micro_usd);
    // Two A100s are two A100s, not the small model's one-GPU price.
    expect(a100Replica?.pricePerHourMicroUsd).toBe(Math.round((await gpuPrice('a100-80gb')) * 2 * 1_000_000));
    expect(a100Replica?.pricePerHourMicroUsd).toBeGreaterThan(listed.price_per_hour_micro_usd);
    for (const { id } of [onCatalog, onA100s]) await call('POST', `/api/deployments/${id}/stop`, { token });
  });

  it('scales out under load up to max_replicas, and no further', async () => {
    const { id, client } = await deploy({
      min_replicas: 0,
      max_replicas: 2,
      concurrency_per_replica: 1,
      env: { DEV_TOKEN_DELAY_MS: '100' },
    });
    const requests = Array.from({ length: 4 }, (_, i) =>
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `load ${i}` }] }),
    );
    await waitFor(async () => (await liveReplicas(id)).length === 2);
    // Nudges keep coming while jobs wait; the count stays at the maximum.
    for (let i = 0; i < 3; i++) await reconcile({ endpoint_id: id });
    expect(await liveReplicas(id)).toHaveLength(2);
    const answers = await Promise.all(requests);
    expect(answers.map((answer) => answer.choices[0]?.message.content)).toEqual(
      [0, 1, 2, 3].map((i) => expect.stringContaining(`You said: "load ${i}"`)),
    );
  }, 60_000);
});
