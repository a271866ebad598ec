import type { WorkerJob } from '../engines/engine.ts';

export class JobLostError extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} is no longer ours`);
    this.name = 'JobLostError';
  }
}

const RETRIES = 5;

/**
 * The worker API, as the agent calls it. Network failures and 5xx are retried with backoff (the edge
 * may be redeploying); 409 means the job was cancelled or re-queued, 401 that this replica is gone.
 */
export function createWorkerClient(baseUrl: string, token: string) {
  const call = async (path: string, body: unknown, signal?: AbortSignal): Promise<Response> => {
    let lastError: unknown;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      try {
        const response = await fetch(new URL(path, baseUrl), {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
          ...(signal ? { signal } : {}),
        });
        if (response.status < 500) return response;
        lastError = new Error(`${path}: ${response.status} ${await response.text()}`);
      } catch (error) {
        if (signal?.aborted) throw error;
        lastError = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
    throw lastError;
  };

  const expectOk = async (response: Response, jobId: string) => {
    if (response.status === 409) throw new JobLostError(jobId);
    if (!response.ok) throw new Error(`worker API answered ${response.status}: ${await response.text()}`);
    await response.body?.cancel();
  };

  return {
    /** Ships log lines to the edge, where `GET /api/deployments/{id}/logs` shows them. */
    async logs(lines: { at: string; line: string }[]) {
      const response = await call('/internal/worker/logs', { lines });
      await response.body?.cancel();
    },
    async take(
      max: number,
      waitMs: number,
      signal: AbortSignal,
    ): Promise<{ jobs: WorkerJob[]; leaseMs: number }> {
      const response = await call('/internal/worker/jobs/take', { max, wait_ms: waitMs }, signal);
      if (response.status === 401) throw new Error('the edge no longer knows this replica (401): stopping');
      if (!response.ok) throw new Error(`take answered ${response.status}: ${await response.text()}`);
      const body = (await response.json()) as { jobs: WorkerJob[]; lease_ms: number };
      return { jobs: body.jobs, leaseMs: body.lease_ms };
    },
    async events(jobId: string, chunks: Record<string, unknown>[]) {
      await expectOk(await call(`/internal/worker/jobs/${jobId}/events`, { chunks }), jobId);
    },
    async complete(
      jobId: string,
      outcome: { result: Record<string, unknown> } | { error: { message: string; type?: string } },
      gpuMs: number,
    ) {
      await expectOk(
        await call(`/internal/worker/jobs/${jobId}/complete`, { ...outcome, gpu_ms: gpuMs }),
        jobId,
      );
    },
  };
}

export type WorkerClient = ReturnType<typeof createWorkerClient>;
