import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeEcs } from '../../../tests/harness/fake-ecs.ts';
import { CapacityUnavailableError, type ReplicaSpec } from '../../core/compute.ts';
import { EcsComputeProvider } from './ecs.ts';

let ecs: Awaited<ReturnType<typeof startFakeEcs>>;
let provider: EcsComputeProvider;

const spec = (over: Partial<ReplicaSpec> = {}): ReplicaSpec => ({
  replicaId: 'rep_1',
  orgId: 'org_1',
  endpointId: 'ep_1',
  gpuType: 'a10g',
  gpuCount: 1,
  engine: 'vllm',
  image: null,
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  env: { HF_TOKEN: 'hf_user', REPLICA_ID: 'spoofed' },
  concurrency: 4,
  workerToken: 'wt_token',
  controlPlaneUrl: 'https://api.aicloud.dev',
  ...over,
});

beforeAll(async () => {
  ecs = await startFakeEcs();
  provider = new EcsComputeProvider({
    cluster: 'aicloud-gpu',
    capacityProviders: { a10g: 'g5-2xlarge', 'a100-80gb': 'p4de-24xlarge' },
    taskDefinitions: { vllm: 'aicloud-worker-vllm', whisper: 'aicloud-worker-whisper' },
    subnets: ['subnet-a', 'subnet-b'],
    securityGroups: ['sg-workers'],
    client: {
      endpoint: ecs.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    },
  });
});

afterAll(() => ecs.close());

beforeEach(() => {
  ecs.requests.length = 0;
  ecs.state.throttleNext = 0;
  ecs.state.capacity.set('g5-2xlarge', 5);
  ecs.state.capacity.set('p4de-24xlarge', 0);
});

describe('ECS compute provider, through the real AWS SDK', () => {
  it('runs one tagged task on the GPU family’s capacity provider, with the worker’s environment', async () => {
    const replica = await provider.start(spec());
    expect(replica).toMatchObject({ replicaId: 'rep_1', status: 'pending', startedAt: null });
    expect(replica.providerRef).toMatch(/^arn:aws:ecs:.*:task\/gpu\//);
    const [sent] = ecs.requests;
    expect(sent?.action).toBe('RunTask');
    expect(sent?.body).toMatchObject({
      cluster: 'aicloud-gpu',
      taskDefinition: 'aicloud-worker-vllm',
      count: 1,
      capacityProviderStrategy: [{ capacityProvider: 'g5-2xlarge', weight: 1 }],
      clientToken: 'rep_1:a10g',
      startedBy: 'aicloud',
      group: 'rep_1',
      tags: [
        { key: 'aicloud:replica', value: 'rep_1' },
        { key: 'aicloud:endpoint', value: 'ep_1' },
        { key: 'aicloud:org', value: 'org_1' },
      ],
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-a', 'subnet-b'],
          securityGroups: ['sg-workers'],
          assignPublicIp: 'DISABLED',
        },
      },
    });
    const overrides = sent?.body.overrides as { containerOverrides: Record<string, unknown>[] };
    const override = overrides.containerOverrides[0];
    expect(override?.name).toBe('worker');
    expect(override?.resourceRequirements).toEqual([{ type: 'GPU', value: '1' }]);
    const environment = Object.fromEntries(
      ((override?.environment ?? []) as { name: string; value: string }[]).map(({ name, value }) => [
        name,
        value,
      ]),
    );
    expect(environment).toEqual({
      HF_TOKEN: 'hf_user',
      // The platform's variables win over a deployment's.
      REPLICA_ID: 'rep_1',
      CONTROL_PLANE_URL: 'https://api.aicloud.dev',
      WORKER_TOKEN: 'wt_token',
      ENGINE: 'vllm',
      MODEL: 'meta-llama/Llama-3.1-8B-Instruct',
      CONCURRENCY: '4',
      GPU_COUNT: '1',
    });
  });

  it('returns the first task for a retried start of the same replica', async () => {
    const first = await provider.start(spec({ replicaId: 'rep_retry' }));
    const again = await provider.start(spec({ replicaId: 'rep_retry' }));
    expect(again.providerRef).toBe(first.providerRef);
    expect(ecs.requests.map((request) => request.body.clientToken)).toEqual([
      'rep_retry:a10g',
      'rep_retry:a10g',
    ]);
  });

  it('retries throttling with backoff, within a bound', async () => {
    ecs.state.throttleNext = 2;
    await expect(provider.start(spec({ replicaId: 'rep_throttled' }))).resolves.toMatchObject({
      status: 'pending',
    });
    expect(ecs.requests.map((request) => request.action)).toEqual(['RunTask', 'RunTask', 'RunTask']);

    ecs.requests.length = 0;
    ecs.state.throttleNext = 10;
    await expect(provider.start(spec({ replicaId: 'rep_throttled_out' }))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(ecs.requests).toHaveLength(4);
  });

  it('reports no room for the GPU family as a capacity error, so the orchestrator falls back', async () => {
    const error = await provider
      .start(spec({ replicaId: 'rep_a100', gpuType: 'a100-80gb' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CapacityUnavailableError);
    expect((error as Error).message).toBe('No capacity for a100-80gb: RESOURCE:GPU');
    const unserved = await provider
      .start(spec({ replicaId: 'rep_h100', gpuType: 'h100-80gb' }))
      .catch((e: unknown) => e);
    expect(unserved).toBeInstanceOf(CapacityUnavailableError);
    expect(ecs.requests.map((request) => request.action)).toEqual(['RunTask']);
  });

  it('stops a task (idempotently) and lists the platform’s tasks by their replica tags', async () => {
    const running = await provider.start(spec({ replicaId: 'rep_listed' }));
    ecs.run(running.providerRef);
    const listed = await provider.list();
    expect(listed.find((replica) => replica.replicaId === 'rep_listed')).toMatchObject({
      providerRef: running.providerRef,
      status: 'running',
    });
    expect(ecs.requests.find((request) => request.action === 'DescribeTasks')?.body.include).toEqual([
      'TAGS',
    ]);

    await provider.stop(running.providerRef);
    expect(ecs.requests.at(-1)).toMatchObject({
      action: 'StopTask',
      body: { cluster: 'aicloud-gpu', task: running.providerRef, reason: 'Released by the orchestrator' },
    });
    await expect(
      provider.stop('arn:aws:ecs:us-east-1:123456789012:task/gpu/unknown'),
    ).resolves.toBeUndefined();
    // Ended work stays listed for a while, as ended: reconciliation sees it was stopped.
    expect((await provider.list()).find((replica) => replica.replicaId === 'rep_listed')?.status).toBe(
      'stopped',
    );
  });
});
