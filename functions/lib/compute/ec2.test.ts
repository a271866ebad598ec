import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeEc2 } from '../../../tests/harness/fake-ec2.ts';
import { CapacityUnavailableError, type ReplicaSpec } from '../../core/compute.ts';
import { Ec2ComputeProvider } from './ec2.ts';

let ec2: Awaited<ReturnType<typeof startFakeEc2>>;
let provider: Ec2ComputeProvider;

const spec = (over: Partial<ReplicaSpec> = {}): ReplicaSpec => ({
  replicaId: 'rep_1',
  orgId: 'org_1',
  endpointId: 'ep_1',
  gpuType: 'h100-80gb',
  gpuCount: 8,
  engine: 'vllm',
  image: null,
  model: 'meta-llama/Llama-3.1-70B-Instruct',
  env: { NOTE: "it's é" },
  concurrency: 8,
  workerToken: 'wt_token',
  controlPlaneUrl: 'https://api.aicloud.dev',
  ...over,
});

beforeAll(async () => {
  ec2 = await startFakeEc2();
  provider = new Ec2ComputeProvider({
    launchTemplates: { 'h100-80gb': 'aicloud-p5', 'a100-80gb': 'aicloud-p4de' },
    images: { vllm: '123456789012.dkr.ecr.us-east-1.amazonaws.com/aicloud/worker-vllm:1' },
    client: {
      endpoint: ec2.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    },
  });
});

afterAll(() => ec2.close());

beforeEach(() => {
  ec2.requests.length = 0;
  ec2.state.capacity.set('aicloud-p5', 3);
  ec2.state.capacity.set('aicloud-p4de', 0);
});

describe('EC2 compute provider, through the real AWS SDK', () => {
  it('launches one tagged instance from the GPU family’s template, IMDSv2 only, one hop', async () => {
    const replica = await provider.start(spec());
    expect(replica).toMatchObject({ replicaId: 'rep_1', status: 'pending' });
    expect(replica.providerRef).toMatch(/^i-[0-9a-f]{17}$/);
    const [sent] = ec2.requests;
    expect(sent?.action).toBe('RunInstances');
    expect(sent?.params).toMatchObject({
      'LaunchTemplate.LaunchTemplateName': 'aicloud-p5',
      MinCount: '1',
      MaxCount: '1',
      ClientToken: `rep_1:${spec().gpuType}`,
      InstanceInitiatedShutdownBehavior: 'terminate',
      'MetadataOptions.HttpTokens': 'required',
      'MetadataOptions.HttpPutResponseHopLimit': '1',
      'TagSpecification.1.ResourceType': 'instance',
    });
    const instance = ec2.instances.get(replica.providerRef);
    expect(instance?.tags).toEqual({
      'aicloud:replica': 'rep_1',
      'aicloud:endpoint': 'ep_1',
      'aicloud:org': 'org_1',
    });
    // The user data runs the engine's image on every GPU with the worker's environment, then powers off.
    expect(instance?.userData).toContain(
      "docker run --rm --gpus all --name worker --stop-timeout 60 -e 'NOTE=it'\\''s é' -e 'CONTROL_PLANE_URL=https://api.aicloud.dev'",
    );
    expect(instance?.userData).toContain(
      "-e 'GPU_COUNT=8' '123456789012.dkr.ecr.us-east-1.amazonaws.com/aicloud/worker-vllm:1'",
    );
    expect(instance?.userData.trim().split('\n').at(-1)).toBe('shutdown -h now');
    expect(instance?.userData).toContain(
      'aws ecr get-login-password --region us-east-1 | docker login --username AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com',
    );
  });

  it('is idempotent per replica, and retries request throttling', async () => {
    ec2.state.throttleNext = 1;
    const first = await provider.start(spec({ replicaId: 'rep_twice' }));
    const again = await provider.start(spec({ replicaId: 'rep_twice' }));
    expect(again.providerRef).toBe(first.providerRef);
    expect(ec2.requests.map((request) => request.action)).toEqual([
      'RunInstances',
      'RunInstances',
      'RunInstances',
    ]);
  });

  it('turns InsufficientInstanceCapacity into a capacity error after bounded retries', async () => {
    const error = await provider
      .start(spec({ replicaId: 'rep_a100', gpuType: 'a100-80gb' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CapacityUnavailableError);
    expect((error as Error).message).toContain('No capacity for a100-80gb: InsufficientInstanceCapacity');
    expect(ec2.requests.length).toBeLessThanOrEqual(3);
  });

  it('terminates (idempotently) and lists the platform’s instances by tag', async () => {
    const started = await provider.start(spec({ replicaId: 'rep_listed' }));
    expect((await provider.list()).find((replica) => replica.replicaId === 'rep_listed')?.providerRef).toBe(
      started.providerRef,
    );
    expect(ec2.requests.at(-1)?.params).toMatchObject({
      'Filter.1.Name': 'tag-key',
      'Filter.1.Value.1': 'aicloud:replica',
    });
    await provider.stop(started.providerRef);
    expect(ec2.requests.at(-1)).toMatchObject({
      action: 'TerminateInstances',
      params: { 'InstanceId.1': started.providerRef },
    });
    await expect(provider.stop('i-00000000000000404')).resolves.toBeUndefined();
    // Ended work stays listed for a while, as ended: reconciliation sees it was stopped.
    expect((await provider.list()).find((replica) => replica.replicaId === 'rep_listed')?.status).toBe(
      'stopped',
    );
  });
});
