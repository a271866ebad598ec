import type { jobs } from '../../../db/schema/index.ts';

/**
 * What `GET /v1/jobs/{id}` and job webhooks show. Money is in USD with micro-dollar precision; `result`
 * is the output as presented to callers (files as links), which the edge resolves.
 */
export function toJobView(
  row: typeof jobs.$inferSelect,
  extra: { queuePosition?: number | null; result?: unknown } = {},
) {
  return {
    id: row.id,
    object: 'job' as const,
    status: row.state,
    kind: row.kind,
    deployment_id: row.endpointId,
    created_at: row.createdAt.toISOString(),
    started_at: row.startedAt?.toISOString() ?? null,
    completed_at: row.completedAt?.toISOString() ?? null,
    queue_position: extra.queuePosition ?? null,
    result: extra.result ?? row.output ?? null,
    error: row.error ?? null,
    gpu_seconds: row.gpuSeconds ?? null,
    cost_usd: row.costMicroUsd === null ? null : row.costMicroUsd / 1_000_000,
    webhook: row.webhookUrl,
  };
}
