import { z } from 'zod';

/**
 * The seam between the orchestrator and GPU capacity. One implementation per backend:
 * `ecs` (RunTask on EC2 capacity providers), `ec2` (RunInstances from a GPU launch template) and
 * `local` (worker-agent processes on this machine, for development and tests).
 */
export const COMPUTE_PROVIDERS = ['ecs', 'ec2', 'local'] as const;
export type ComputeProviderName = (typeof COMPUTE_PROVIDERS)[number];

export const ENGINES = ['vllm', 'whisper', 'diffusers', 'tts'] as const;
export type Engine = (typeof ENGINES)[number];

const nonEmpty = z.string().min(1);

/** What the orchestrator asks a backend to run; validated again wherever it crosses a process boundary. */
export const replicaSpecSchema = z.object({
  replicaId: nonEmpty,
  orgId: nonEmpty,
  endpointId: nonEmpty,
  /** GPU SKU slug, e.g. `a10g`; the provider maps it to an instance family or capacity provider. */
  gpuType: nonEmpty,
  gpuCount: z.number().int().min(1).max(8),
  engine: z.enum(ENGINES),
  /** Container image for custom endpoints; catalog models use the engine's image. */
  image: nonEmpty.nullable(),
  /** Model weights reference (e.g. a Hugging Face repo) for catalog models. */
  model: nonEmpty.nullable(),
  env: z.record(z.string(), z.string()),
  /** Jobs the worker runs at once (the endpoint's concurrency per replica). */
  concurrency: z.number().int().min(1).max(256),
  /**
   * Per-replica credential the worker agent presents to the edge's worker API. It only allows this
   * endpoint's jobs, so a compromised container cannot read other tenants' work.
   */
  workerToken: nonEmpty,
  /** Base URL of the edge's worker API that the agent long-polls. */
  controlPlaneUrl: z.url({ protocol: /^https?$/ }),
});

export type ReplicaSpec = z.infer<typeof replicaSpecSchema>;

/**
 * The worker agent's environment for a replica, whatever runs it (a local process, an ECS task's
 * container overrides, an EC2 instance's user data). The deployment's own variables come first so
 * they can never override the platform's.
 */
export function workerEnvironment(spec: ReplicaSpec): Record<string, string> {
  return {
    ...spec.env,
    CONTROL_PLANE_URL: spec.controlPlaneUrl,
    WORKER_TOKEN: spec.workerToken,
    REPLICA_ID: spec.replicaId,
    ENGINE: spec.engine,
    MODEL: spec.model ?? '',
    CONCURRENCY: String(spec.concurrency),
    GPU_COUNT: String(spec.gpuCount),
  };
}

/** What the backend says about a replica it runs, independent of what the database believes. */
export type ProviderReplicaStatus = 'pending' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface ProviderReplica {
  replicaId: string;
  /** Backend handle: an ECS task ARN, an EC2 instance id, a local process id. */
  providerRef: string;
  status: ProviderReplicaStatus;
  startedAt: Date | null;
  /** Why the backend stopped or failed it, when it says. */
  reason: string | null;
  /**
   * Set while the backend has accepted the start but found no machine to run it on (an ECS task in
   * PROVISIONING, waiting on its capacity provider to scale): since when.
   */
  awaitingCapacitySince?: Date | null;
}

/** Thrown when the backend has no capacity for the GPU type: the orchestrator tries the next fallback. */
export class CapacityUnavailableError extends Error {
  readonly gpuType: string;

  constructor(gpuType: string, detail: string) {
    super(`No capacity for ${gpuType}: ${detail}`);
    this.name = 'CapacityUnavailableError';
    this.gpuType = gpuType;
  }
}

export interface ComputeProvider {
  readonly name: ComputeProviderName;
  /** Idempotent per replicaId: starting the same replica twice returns the first start. */
  start(spec: ReplicaSpec): Promise<ProviderReplica>;
  /** Idempotent: stopping an already stopped replica succeeds. */
  stop(providerRef: string): Promise<void>;
  /** Every replica the backend runs for this platform, for reconciliation against the database. */
  list(): Promise<ProviderReplica[]>;
}
