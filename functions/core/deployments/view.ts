import type { endpoints, models } from '../../../db/schema/index.ts';
import { capView } from '../billing/caps.ts';

export interface DeploymentView {
  id: string;
  object: 'deployment';
  name: string;
  model: string | null;
  image: string | null;
  engine: string;
  gpu_types: string[];
  gpu_count: number;
  min_replicas: number;
  max_replicas: number;
  idle_timeout_seconds: number;
  concurrency_per_replica: number;
  /** Names only: values may be secrets and are never returned. */
  env_keys: string[];
  spend_cap: { daily_cents: number | null; monthly_cents: number | null };
  state: 'active' | 'stopped';
  created_at: string;
  updated_at: string;
}

export function toDeploymentView(
  row: typeof endpoints.$inferSelect,
  model: Pick<typeof models.$inferSelect, 'slug' | 'engine'> | null,
): DeploymentView {
  return {
    id: row.id,
    object: 'deployment',
    name: row.name,
    model: model?.slug ?? null,
    image: row.image,
    // Custom images speak the OpenAI API (vLLM's server or compatible), like catalog LLMs.
    engine: model?.engine ?? 'vllm',
    gpu_types: row.gpuTypes,
    gpu_count: row.gpuCount,
    min_replicas: row.minReplicas,
    max_replicas: row.maxReplicas,
    idle_timeout_seconds: row.idleTimeoutSeconds,
    concurrency_per_replica: row.concurrencyPerReplica,
    env_keys: Object.keys(row.env).sort(),
    spend_cap: capView(row),
    state: row.state,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
