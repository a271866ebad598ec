import {
  DescribeInstancesCommand,
  EC2Client,
  type EC2ClientConfig,
  type Instance,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { base64Utf8 } from '../../core/base64.ts';
import {
  CapacityUnavailableError,
  type ComputeProvider,
  type Engine,
  type ProviderReplica,
  type ReplicaSpec,
  workerEnvironment,
} from '../../core/compute.ts';
import { AWS_CLIENT_DEFAULTS, TAGS } from './ecs.ts';

export interface Ec2Settings {
  /** GPU SKU slug → launch template (GPU instance type, ECS GPU-optimised AMI, subnet, security group). */
  launchTemplates: Record<string, string>;
  /** Engine → worker image (ECR URI); a custom deployment's own image wins. */
  images: Partial<Record<Engine, string>>;
  client: EC2ClientConfig;
}

/** Errors that mean "no room or quota for this instance type now": the orchestrator tries the next GPU. */
const CAPACITY_ERRORS = new Set([
  'InsufficientInstanceCapacity',
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
  'MaxSpotInstanceCountExceeded',
  'Unsupported',
]);

const STATUS: Record<string, ProviderReplica['status']> = {
  pending: 'pending',
  running: 'running',
  'shutting-down': 'stopping',
  stopping: 'stopping',
  stopped: 'stopped',
  terminated: 'stopped',
};

const shellQuote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

/**
 * The instance's user data: run the worker container on all its GPUs, then power off, which the
 * launch terminates (`InstanceInitiatedShutdownBehavior`), so a replica is never a forgotten instance.
 * The worker token lives here, so IMDS answers only one hop away (the host, not the container).
 */
export function workerUserData(spec: ReplicaSpec, image: string): string {
  const env = Object.entries(workerEnvironment(spec))
    .map(([name, value]) => `-e ${shellQuote(`${name}=${value}`)}`)
    .join(' ');
  // ECR images need a registry login first (the instance role grants ecr:GetAuthorizationToken).
  const ecr = /^(\d+\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com)\//.exec(image);
  const login = ecr
    ? [
        `aws ecr get-login-password --region ${ecr[2]} | docker login --username AWS --password-stdin ${ecr[1]}`,
      ]
    : [];
  return [
    '#!/bin/bash',
    'set -u',
    ...login,
    `docker run --rm --gpus all --name worker --stop-timeout 60 ${env} ${shellQuote(image)}`,
    'shutdown -h now',
    '',
  ].join('\n');
}

function toReplica(instance: Instance): ProviderReplica | null {
  const replicaId = instance.Tags?.find((tag) => tag.Key === TAGS.replica)?.Value;
  if (!replicaId || !instance.InstanceId) return null;
  return {
    replicaId,
    providerRef: instance.InstanceId,
    status: STATUS[instance.State?.Name ?? ''] ?? 'pending',
    startedAt: instance.LaunchTime ?? null,
    reason: instance.StateReason?.Message ?? null,
  };
}

/**
 * The `ec2` provider: one GPU instance per replica from the GPU family's launch template, for families
 * without an ECS capacity provider. Idempotent per replica and GPU type (`ClientToken`), IMDSv2 required with a hop
 * limit of 1, tagged for reconciliation.
 */
export class Ec2ComputeProvider implements ComputeProvider {
  readonly name = 'ec2' as const;
  readonly #settings: Ec2Settings;
  readonly #client: EC2Client;

  constructor(settings: Ec2Settings) {
    this.#settings = settings;
    this.#client = new EC2Client({ ...AWS_CLIENT_DEFAULTS, maxAttempts: 3, ...settings.client });
  }

  async start(spec: ReplicaSpec): Promise<ProviderReplica> {
    const template = this.#settings.launchTemplates[spec.gpuType];
    if (!template) throw new CapacityUnavailableError(spec.gpuType, 'no EC2 launch template serves it');
    const image = spec.image ?? this.#settings.images[spec.engine];
    if (!image) throw new Error(`no worker image for the ${spec.engine} engine`);
    try {
      const answer = await this.#client.send(
        new RunInstancesCommand({
          LaunchTemplate: { LaunchTemplateName: template },
          MinCount: 1,
          MaxCount: 1,
          // Per replica and GPU type, as on ECS: a fallback type is another request, not a retry of the
          // first with other parameters (which EC2 answers with IdempotentParameterMismatch).
          ClientToken: `${spec.replicaId}:${spec.gpuType}`,
          UserData: base64Utf8(workerUserData(spec, image)),
          InstanceInitiatedShutdownBehavior: 'terminate',
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
          TagSpecifications: [
            {
              ResourceType: 'instance',
              Tags: [
                { Key: TAGS.replica, Value: spec.replicaId },
                { Key: TAGS.endpoint, Value: spec.endpointId },
                { Key: TAGS.org, Value: spec.orgId },
              ],
            },
          ],
        }),
      );
      const replica = answer.Instances?.[0] ? toReplica(answer.Instances[0]) : null;
      if (!replica) throw new Error('RunInstances returned no instance');
      return replica;
    } catch (error) {
      if (error instanceof Error && CAPACITY_ERRORS.has(error.name)) {
        throw new CapacityUnavailableError(spec.gpuType, `${error.name}: ${error.message}`);
      }
      throw error;
    }
  }

  async stop(providerRef: string): Promise<void> {
    try {
      await this.#client.send(new TerminateInstancesCommand({ InstanceIds: [providerRef] }));
    } catch (error) {
      if (error instanceof Error && error.name === 'InvalidInstanceID.NotFound') return;
      throw error;
    }
  }

  async list(): Promise<ProviderReplica[]> {
    const replicas: ProviderReplica[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.#client.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag-key', Values: [TAGS.replica] },
            {
              Name: 'instance-state-name',
              // Terminated too (listed for about an hour): a worker that exited is seen as ended.
              Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped', 'terminated'],
            },
          ],
          NextToken,
        }),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          const replica = toReplica(instance);
          if (replica) replicas.push(replica);
        }
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return replicas;
  }
}
