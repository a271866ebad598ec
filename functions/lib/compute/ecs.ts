import {
  DescribeTasksCommand,
  ECSClient,
  type ECSClientConfig,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import {
  CapacityUnavailableError,
  type ComputeProvider,
  type Engine,
  type ProviderReplica,
  type ReplicaSpec,
  workerEnvironment,
} from '../../core/compute.ts';

export interface EcsSettings {
  cluster: string;
  /** GPU SKU slug → EC2 capacity provider (an auto-scaling group of that instance family). */
  capacityProviders: Record<string, string>;
  /** Engine → task definition (family or ARN) whose container `worker` runs that engine's image. */
  taskDefinitions: Partial<Record<Engine, string>>;
  subnets: string[];
  securityGroups: string[];
  client: ECSClientConfig;
}

/** Bounded: a slow or failing AWS API gives up within a reconcile, which records the failure. */
export const AWS_CLIENT_DEFAULTS = { requestHandler: { requestTimeout: 10_000, connectionTimeout: 5_000 } };

/** Every task this platform starts carries these tags; reconciliation finds its tasks by them. */
export const TAGS = { replica: 'aicloud:replica', endpoint: 'aicloud:endpoint', org: 'aicloud:org' } as const;
const STARTED_BY = 'aicloud';
const CONTAINER = 'worker';
/** RunTask failure reasons that mean "no room for this task now", not a broken request. */
const CAPACITY_REASONS = /^(RESOURCE:|AGENT|Capacity is unavailable)/;

const STATUS: Record<string, ProviderReplica['status']> = {
  PROVISIONING: 'pending',
  PENDING: 'pending',
  ACTIVATING: 'pending',
  RUNNING: 'running',
  DEACTIVATING: 'stopping',
  STOPPING: 'stopping',
  DEPROVISIONING: 'stopping',
  STOPPED: 'stopped',
  DELETED: 'stopped',
};

function toReplica(task: Task): ProviderReplica | null {
  const replicaId = task.tags?.find((tag) => tag.key === TAGS.replica)?.value;
  if (!replicaId || !task.taskArn) return null;
  const status = STATUS[task.lastStatus ?? ''] ?? 'pending';
  // A task that stopped before it ever ran (essential container exit, placement failure) failed.
  const failed = status === 'stopped' && !task.startedAt && task.stopCode !== 'UserInitiated';
  return {
    replicaId,
    providerRef: task.taskArn,
    status: failed ? 'failed' : status,
    startedAt: task.startedAt ?? null,
    reason: task.stoppedReason ?? null,
    awaitingCapacitySince: task.lastStatus === 'PROVISIONING' ? (task.createdAt ?? null) : null,
  };
}

/**
 * The `ecs` provider: one ECS task per replica, placed by RunTask on the EC2 capacity provider of its
 * GPU family (G5 for 24 GB GPUs, P4d/P4de for A100s), which scales its auto-scaling group to make room.
 * RunTask is idempotent per replica (`clientToken`); the SDK retries throttling with backoff.
 */
export class EcsComputeProvider implements ComputeProvider {
  readonly name = 'ecs' as const;
  readonly #settings: EcsSettings;
  readonly #client: ECSClient;

  constructor(settings: EcsSettings) {
    this.#settings = settings;
    this.#client = new ECSClient({ ...AWS_CLIENT_DEFAULTS, maxAttempts: 4, ...settings.client });
  }

  async start(spec: ReplicaSpec): Promise<ProviderReplica> {
    const capacityProvider = this.#settings.capacityProviders[spec.gpuType];
    if (!capacityProvider)
      throw new CapacityUnavailableError(spec.gpuType, 'no ECS capacity provider serves it');
    const taskDefinition = this.#settings.taskDefinitions[spec.engine];
    if (!taskDefinition) throw new Error(`no ECS task definition for the ${spec.engine} engine`);
    const environment = Object.entries({
      ...workerEnvironment(spec),
      ...(spec.image ? { IMAGE: spec.image } : {}),
    }).map(([name, value]) => ({ name, value }));
    const answer = await this.#client.send(
      new RunTaskCommand({
        cluster: this.#settings.cluster,
        taskDefinition,
        count: 1,
        capacityProviderStrategy: [{ capacityProvider, weight: 1 }],
        // A retried start (lost reply) returns the first task instead of starting a second one. Per
        // GPU type: a fallback to the next family is a different request, not a retry.
        clientToken: `${spec.replicaId}:${spec.gpuType}`,
        startedBy: STARTED_BY,
        // The task's stop event (EventBridge → QStash → replica_ended) names its replica by group.
        group: spec.replicaId,
        tags: [
          { key: TAGS.replica, value: spec.replicaId },
          { key: TAGS.endpoint, value: spec.endpointId },
          { key: TAGS.org, value: spec.orgId },
        ],
        enableECSManagedTags: true,
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: this.#settings.subnets,
            securityGroups: this.#settings.securityGroups,
            assignPublicIp: 'DISABLED',
          },
        },
        overrides: {
          containerOverrides: [
            {
              name: CONTAINER,
              environment,
              resourceRequirements: [{ type: 'GPU', value: String(spec.gpuCount) }],
            },
          ],
        },
      }),
    );
    const task = answer.tasks?.[0];
    const replica = task ? toReplica(task) : null;
    if (replica) return replica;
    const failure = answer.failures?.[0];
    const reason = failure
      ? `${failure.reason ?? 'unknown'}${failure.detail ? ` (${failure.detail})` : ''}`
      : 'no task';
    if (failure?.reason && CAPACITY_REASONS.test(failure.reason))
      throw new CapacityUnavailableError(spec.gpuType, reason);
    throw new Error(`RunTask started nothing: ${reason}`);
  }

  async stop(providerRef: string): Promise<void> {
    try {
      await this.#client.send(
        new StopTaskCommand({
          cluster: this.#settings.cluster,
          task: providerRef,
          reason: 'Released by the orchestrator',
        }),
      );
    } catch (error) {
      // Already gone (stopped and expired from ECS): stopping it is done.
      if (
        error instanceof Error &&
        error.name === 'InvalidParameterException' &&
        /not found/i.test(error.message)
      )
        return;
      throw error;
    }
  }

  async list(): Promise<ProviderReplica[]> {
    const arns: string[] = [];
    // Stopped tasks too (ECS keeps them about an hour): a task that crashed or could not pull its
    // image must be seen as ended, not waited for.
    for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
      let nextToken: string | undefined;
      do {
        const page = await this.#client.send(
          new ListTasksCommand({
            cluster: this.#settings.cluster,
            startedBy: STARTED_BY,
            desiredStatus,
            nextToken,
            maxResults: 100,
          }),
        );
        arns.push(...(page.taskArns ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
    }
    const replicas: ProviderReplica[] = [];
    // DescribeTasks takes at most 100 tasks per call.
    for (let i = 0; i < arns.length; i += 100) {
      const described = await this.#client.send(
        new DescribeTasksCommand({
          cluster: this.#settings.cluster,
          tasks: arns.slice(i, i + 100),
          include: ['TAGS'],
        }),
      );
      for (const task of described.tasks ?? []) {
        const replica = toReplica(task);
        if (replica) replicas.push(replica);
      }
    }
    return replicas;
  }
}
