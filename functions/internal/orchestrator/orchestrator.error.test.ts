import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../../../db/schema/index.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import { startFakeEcs } from '../../../tests/harness/fake-ecs.ts';
import { addFunds } from '../../../tests/harness/stripe.ts';
import { signedReconcile, startEdgeServer } from '../../../tests/harness/workers.ts';

const database = testDatabase();
let edge: Awaited<ReturnType<typeof startEdgeServer>>;
let ecsEdge: Awaited<ReturnType<typeof startEdgeServer>>;
let ecs: Awaited<ReturnType<typeof startFakeEcs>>;
let token: string;

beforeAll(async () => {
  // A compute provider that cannot be reached: every start fails.
  edge = await startEdgeServer({ LOCAL_COMPUTE_URL: 'http://127.0.0.1:9' }, { publicUrlIsSelf: true });
  token = (await signUp('orchestrator-faults')).token;
  await addFunds(token, 100);
  ecs = await startFakeEcs();
  ecsEdge = await startEdgeServer(
    {
      COMPUTE_PROVIDER: 'ecs',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE000000',
      AWS_SECRET_ACCESS_KEY: 'secret-example-000000',
      AWS_ENDPOINT_URL: ecs.url,
      ECS_CLUSTER: 'aicloud-gpu',
      ECS_CAPACITY_PROVIDERS: JSON.stringify({ a10g: 'g5', l4: 'g6' }),
      ECS_TASK_DEFINITIONS: JSON.stringify({ vllm: 'aicloud-worker-vllm' }),
      ECS_SUBNETS: 'subnet-a,subnet-b',
      ECS_SECURITY_GROUPS: 'sg-workers',
    },
    { publicUrlIsSelf: true },
  );
});

afterAll(async () => {
  await ecsEdge?.close();
  await ecs?.close();
  await edge?.close();
  await database.close();
});

describe('orchestrator faults', () => {
  it('refuses malformed reconcile bodies with a 400 naming the problem, even when signed', async () => {
    for (const body of [
      { endpoint_id: 'not-an-id' },
      { replica_ended: { replica_id: 'job_1ChXsdT9sfmEDvyJWKBzqp' } },
      { replica_ended: { replica_id: 'rep_1ChXsb6vYAv6WmWGwndLh1', reason: 'x'.repeat(100_001) } },
      { replica_ended: { replica_id: 'rep_1ChXsb6vYAv6WmWGwndLh1' }, endpoint_id: 'ep_1' },
      { replica_ended: { provider_ref: '' } },
      { replica_ended: { provider_ref: 'i-0abc 123' } },
      { replica_ended: { provider_ref: 'i'.repeat(257) } },
      { replica_ended: { replica_id: 'rep_1ChXsb6vYAv6WmWGwndLh1', provider_ref: 'arn:aws:ecs task' } },
    ]) {
      const answer = await signedReconcile(edge.url, body);
      expect(answer.status).toBe(400);
      expect((await answer.json()).error).toMatchObject({
        type: 'invalid_request_error',
        message: expect.stringContaining('Invalid reconcile request'),
      });
    }
    // A well-formed report about a replica nobody knows changes nothing.
    const unknown = await signedReconcile(edge.url, {
      replica_ended: { replica_id: 'rep_1ChXsb6vYAv6WmWGwndLh1', reason: null },
    });
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toEqual({ endpoints: [] });
    // An ECS report names the replica and the task that ended.
    const withTask = await signedReconcile(edge.url, {
      replica_ended: {
        replica_id: 'rep_1ChXsb6vYAv6WmWGwndLh1',
        provider_ref: 'arn:aws:ecs:us-east-1:123456789012:task/cluster/0abc',
        reason: 'Essential container in task exited',
      },
    });
    expect(withTask.status).toBe(200);
    // So does one about an instance this platform did not start (instance events cover the region).
    const stranger = await signedReconcile(edge.url, {
      replica_ended: { provider_ref: 'i-0123456789abcdef0', reason: 'terminated' },
    });
    expect(stranger.status).toBe(200);
    expect(await stranger.json()).toEqual({ endpoints: [] });
  });

  it('records a failed replica when the provider fails, and answers waiting requests 503 with retry-after', async () => {
    const created = await call('POST', '/api/deployments', {
      token,
      body: { model: 'llama-3.1-8b-instruct', gpu_types: ['a10g', 'l4'] },
    });
    const client = new OpenAI({
      baseURL: `${edge.url}/v1`,
      apiKey: created.body.deployment_key.key,
      maxRetries: 0,
    });
    const error = await client.chat.completions
      .create(
        { model: 'm', messages: [{ role: 'user', content: 'hello?' }] },
        { headers: { 'Cancel-After': '3' } },
      )
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(503);
    expect(apiError.headers?.get('retry-after')).toBe('60');
    expect(apiError.message).toContain(
      'No replica could be started for this deployment (the provider could not start it',
    );

    const events = await call('GET', `/api/deployments/${created.body.id}/events`, { token });
    expect(events.body.data.map((event: { state: string }) => event.state)).toEqual(['failed', 'requested']);

    // The status stream replays the events and the runtime; `timeout_seconds=0` ends it at once.
    const stream = `/api/deployments/${created.body.id}/events/stream?timeout_seconds=0`;
    const snapshot = await call('GET', stream, { token });
    expect(snapshot.headers.get('content-type')).toContain('text/event-stream');
    const kinds = (text: string) =>
      text
        .trim()
        .split('\n\n')
        .map((frame) => /^event: (\w+)/m.exec(frame)?.[1]);
    expect(kinds(snapshot.body)).toEqual(['replica', 'replica', 'runtime']);
    const frames = (snapshot.body as string).trim().split('\n\n');
    expect(frames[1]).toContain('"state":"failed"');
    expect(frames[2]).toContain('"status":"scaled_to_zero"');
    const lastId = /^id: (\S+)/m.exec(frames[1] ?? '')?.[1] ?? '';
    const resumed = await call('GET', stream, { token, headers: { 'last-event-id': lastId } });
    expect(kinds(resumed.body)).toEqual(['runtime']);

    // An async job waiting meanwhile shows where it stands and what it waits on.
    const accepted = await fetch(`${edge.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${created.body.deployment_key.key}`,
        'content-type': 'application/json',
        prefer: 'respond-async',
      },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'later' }] }),
    });
    const { id: jobId } = (await accepted.json()) as { id: string };
    const waiting = await call('GET', `/v1/jobs/${jobId}`, { token: created.body.deployment_key.key });
    expect(waiting.body).toMatchObject({
      status: 'queued',
      queue_position: 1,
      deployment: {
        status: 'scaled_to_zero',
        replicas: { active: 0, starting: 0 },
        cold_start_estimate_seconds: null,
      },
    });
  });

  it('times out overdue async jobs on the minute reconcile, without anyone polling them', async () => {
    const created = await call('POST', '/api/deployments', {
      token,
      body: { model: 'llama-3.1-8b-instruct' },
    });
    const accepted = await fetch(`${edge.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${created.body.deployment_key.key}`,
        'content-type': 'application/json',
        prefer: 'respond-async',
        'cancel-after': '1',
      },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'too late' }] }),
    });
    const { id: jobId } = (await accepted.json()) as { id: string };
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const swept = await signedReconcile(edge.url, {});
    expect(swept.status).toBe(200);
    const [row] = await database.db.select().from(jobs).where(eq(jobs.id, jobId));
    expect(row).toMatchObject({ state: 'timed_out' });
    expect(row?.completedAt).not.toBeNull();
  });
});

describe('GPU fallback on ECS', () => {
  it('falls through GPU types without capacity, and fails the replica when none has any', async () => {
    ecs.state.capacity.set('g5', 0);
    ecs.state.capacity.set('g6', 1);
    const created = await call('POST', '/api/deployments', {
      token,
      body: { model: 'llama-3.1-8b-instruct', gpu_types: ['a10g', 'l4'], min_replicas: 1, max_replicas: 2 },
    });
    const reconcile = () => signedReconcile(ecsEdge.url, { endpoint_id: created.body.id });
    expect((await reconcile()).status).toBe(200);
    const runs = ecs.requests.filter((request) => request.action === 'RunTask');
    expect(
      runs.map(
        (run) => (run.body.capacityProviderStrategy as { capacityProvider: string }[])[0]?.capacityProvider,
      ),
    ).toEqual(['g5', 'g6']);
    const events = await call('GET', `/api/deployments/${created.body.id}/events`, { token });
    expect(
      events.body.data.map((event: { state: string; detail: string }) => [event.state, event.detail]),
    ).toEqual([
      ['provisioning', 'ecs: l4 × 1'],
      ['requested', 'queue: 0 waiting, 0 running'],
    ]);

    // Scale out to two while no family has room left: the second replica fails, with the reason.
    await call('PATCH', `/api/deployments/${created.body.id}`, { token, body: { min_replicas: 2 } });
    expect((await reconcile()).status).toBe(200);
    const latest = await call('GET', `/api/deployments/${created.body.id}/events?limit=1`, { token });
    expect(latest.body.data[0]).toMatchObject({ state: 'failed', detail: 'no capacity for a10g, l4' });
  });

  it('refuses a custom image where ECS would run the stock image instead', async () => {
    const key = (await call('POST', '/api/auth/api-keys', { token, body: { name: 'ecs' } })).body.key;
    const refused = await fetch(`${ecsEdge.url}/api/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: 'ghcr.io/acme/model-server:1.2', gpu_types: ['a10g'] }),
    });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toMatchObject({ code: 'invalid_request', param: 'image' });
  });

  it('stops tasks the database does not know (orphans) on the minute reconcile', async () => {
    ecs.state.capacity.set('g5', 1);
    // A task started for a replica whose record was lost (or never written).
    const orphan = await ecs.provider({ a10g: 'g5' }).start({
      replicaId: 'rep_orphan',
      orgId: 'org_gone',
      endpointId: 'ep_gone',
      gpuType: 'a10g',
      gpuCount: 1,
      engine: 'vllm',
      image: null,
      model: null,
      env: {},
      concurrency: 1,
      workerToken: 'wt_orphan',
      controlPlaneUrl: ecsEdge.url,
    });
    const answer = await signedReconcile(ecsEdge.url, {});
    expect(answer.status).toBe(200);
    expect(
      ecs.requests.filter((request) => request.action === 'StopTask').map((request) => request.body.task),
    ).toContain(orphan.providerRef);
    expect(ecs.tasks.get(orphan.providerRef)?.lastStatus).toBe('STOPPED');
  });
});
