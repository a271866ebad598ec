import { z } from 'zod';
import { displayNameInput } from '../auth/inputs.ts';
import { spendCapInput } from '../billing/caps.ts';

/** Jobs one replica runs at once: the knob's bound, and so the most a worker may take in one poll. */
export const MAX_CONCURRENCY_PER_REPLICA = 256;

/** A container image reference: `registry/name:tag` or `name@sha256:…`, as Docker parses them. */
const IMAGE_REFERENCE =
  /^(?:[a-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** Set by the platform in every worker container; a user value would break the worker or its trust. */
const RESERVED_ENV = new Set([
  'WORKER_TOKEN',
  'CONTROL_PLANE_URL',
  'REPLICA_ID',
  'ENGINE',
  'MODEL',
  'ENDPOINT_ID',
  'CONCURRENCY',
  'GPU_COUNT',
]);

/**
 * Every variable, names and values, travels in the container's start request (ECS caps a task's
 * overrides at 8,192 characters, EC2 user data at 16 KiB) beside the platform's own: this much is the
 * deployment's.
 */
const MAX_ENV_CHARACTERS = 6_000;

const envInput = z
  .record(
    z
      .string()
      .max(64, 'names must be at most 64 characters')
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'names must be UPPER_SNAKE_CASE')
      .refine((name) => !RESERVED_ENV.has(name), 'names the platform sets itself cannot be overridden'),
    z.string().max(4096, 'values must be at most 4096 characters'),
  )
  .refine((env) => Object.keys(env).length <= 50, 'at most 50 variables')
  .refine(
    (env) =>
      Object.entries(env).reduce((sum, [name, value]) => sum + name.length + value.length, 0) <=
      MAX_ENV_CHARACTERS,
    `at most ${MAX_ENV_CHARACTERS.toLocaleString('en-US')} characters in all, names and values (larger configuration belongs in the image)`,
  );

const gpuSlug = z
  .string()
  .max(32)
  .regex(/^[a-z0-9-]+$/, 'is not a GPU type');

const knobs = {
  name: displayNameInput,
  /** GPU types in preference order: the orchestrator falls back down the list when one has no capacity. */
  gpu_types: z.array(gpuSlug).min(1, 'needs at least one GPU type').max(4, 'at most 4 GPU types'),
  gpu_count: z.number().int().min(1).max(8),
  min_replicas: z.number().int().min(0).max(10),
  max_replicas: z.number().int().min(1).max(20),
  idle_timeout_seconds: z.number().int().min(10).max(86_400),
  concurrency_per_replica: z.number().int().min(1).max(MAX_CONCURRENCY_PER_REPLICA),
  env: envInput,
  /** `{"daily_cents": 2000, "monthly_cents": 40000}`: past a cap the deployment answers 402 and scales to zero. */
  spend_cap: spendCapInput,
};

export const createDeploymentInput = z
  .object({
    ...knobs,
    name: knobs.name.optional(),
    model: z
      .string()
      .max(100)
      .regex(/^[a-z0-9][a-z0-9.-]*$/, 'is not a model slug')
      .optional(),
    image: z
      .string()
      .max(255, 'must be at most 255 characters')
      .regex(IMAGE_REFERENCE, 'is not a container image reference')
      .optional(),
    gpu_types: knobs.gpu_types.optional(),
    gpu_count: knobs.gpu_count.optional(),
    min_replicas: knobs.min_replicas.default(0),
    max_replicas: knobs.max_replicas.default(1),
    idle_timeout_seconds: knobs.idle_timeout_seconds.default(300),
    concurrency_per_replica: knobs.concurrency_per_replica.optional(),
    env: knobs.env.default({}),
    spend_cap: knobs.spend_cap.optional(),
  })
  .strict()
  .superRefine((input, issues) => {
    if (Boolean(input.model) === Boolean(input.image)) {
      issues.addIssue({
        code: 'custom',
        path: ['model'],
        message: 'give exactly one of model (a catalog slug) or image',
      });
    }
    if (input.image && !input.gpu_types) {
      issues.addIssue({ code: 'custom', path: ['gpu_types'], message: 'is required for a custom image' });
    }
    if (input.max_replicas < input.min_replicas) {
      issues.addIssue({ code: 'custom', path: ['max_replicas'], message: 'must be at least min_replicas' });
    }
  });

export const updateDeploymentInput = z
  .object({
    name: knobs.name.optional(),
    gpu_types: knobs.gpu_types.optional(),
    gpu_count: knobs.gpu_count.optional(),
    min_replicas: knobs.min_replicas.optional(),
    max_replicas: knobs.max_replicas.optional(),
    idle_timeout_seconds: knobs.idle_timeout_seconds.optional(),
    concurrency_per_replica: knobs.concurrency_per_replica.optional(),
    env: knobs.env.optional(),
    spend_cap: knobs.spend_cap.optional(),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, 'change at least one setting');

export type CreateDeploymentInput = z.input<typeof createDeploymentInput>;
export type UpdateDeploymentInput = z.input<typeof updateDeploymentInput>;
