import type { WorkerJob } from '../engines/engine.ts';

/** The edge answered 401: this replica was released. The agent drains and exits. */
export class ReplicaGoneError extends Error {
  constructor() {
    super('the edge no longer knows this replica (401)');
    this.name = 'ReplicaGoneError';
  }
}

export class JobLostError extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} is no longer ours`);
    this.name = 'JobLostError';
  }
}

/** The edge refused a relay call outright (a 4xx): sending it again would be refused again. */
export class RelayRefusedError extends Error {
  constructor(status: number, detail: string) {
    super(`worker API answered ${status}: ${detail}`);
    this.name = 'RelayRefusedError';
  }
}

/** The edge refused the job's result as larger than a worker body may be (413): the caller's to fix. */
export class ResultTooLargeError extends Error {
  constructor(detail: string) {
    super(
      `The result is larger than one response can carry (${detail}). Ask for less per request: fewer inputs to embed, fewer tokens, or no log probabilities.`,
    );
    this.name = 'ResultTooLargeError';
  }
}

const RETRIES = 5;
/** One relay call carries at most this much output (the edge refuses worker bodies over 8 MiB). */
const MAX_RELAY_CALL_BYTES = 1024 * 1024;
/** And at most this many jobs' batches (the edge's limit, a replica's highest concurrency). */
const MAX_RELAY_CALL_BATCHES = 256;

interface QueuedBatch {
  jobId: string;
  /** The batch as it goes in the relay body, serialized once (its length bounds the call's size). */
  json: string;
  settle: { resolve: () => void; reject: (error: unknown) => void };
}

/**
 * The worker API, as the agent calls it. Network failures and 5xx are retried with backoff (the edge
 * may be redeploying); 409 means the job was cancelled or re-queued, 401 that this replica is gone.
 */
export function createWorkerClient(baseUrl: string, token: string) {
  const call = async (
    path: string,
    body: unknown,
    {
      signal,
      timeoutMs = 10_000,
      method = 'POST',
      tries = RETRIES,
    }: { signal?: AbortSignal; timeoutMs?: number; method?: 'GET' | 'POST' | 'PUT'; tries?: number } = {},
  ): Promise<Response> => {
    let lastError: unknown;
    // Files go as raw bytes with their own type; everything else is JSON (a string is JSON already).
    const file = body instanceof Blob ? body : null;
    const payload = file ?? (typeof body === 'string' ? body : JSON.stringify(body));
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (method !== 'GET') headers['content-type'] = file ? file.type : 'application/json';
    for (let attempt = 0; attempt < tries; attempt++) {
      try {
        // A hung call must not hold up lease renewals until the lease lapses: each try is bounded.
        const bounded = AbortSignal.timeout(timeoutMs);
        const response = await fetch(new URL(path, baseUrl), {
          method,
          headers,
          body: method === 'GET' ? undefined : payload,
          signal: signal ? AbortSignal.any([signal, bounded]) : bounded,
        });
        if (response.status < 500) return response;
        lastError = new Error(`${path}: ${response.status} ${await response.text()}`);
      } catch (error) {
        if (signal?.aborted) throw error;
        lastError = error;
      }
      if (attempt + 1 < tries) await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
    throw lastError;
  };

  const expectOk = async (response: Response, jobId: string) => {
    if (response.status === 409) throw new JobLostError(jobId);
    if (!response.ok) throw new Error(`worker API answered ${response.status}: ${await response.text()}`);
    await response.body?.cancel();
  };

  /**
   * The output of every job this worker is streaming goes through one relay call at a time: batches
   * queued while a call is in flight ride together in the next one, so the edge sees one call per
   * round trip for the whole worker rather than one per job.
   */
  let queued: QueuedBatch[] = [];
  let relaying = false;
  const relay = async () => {
    if (relaying || queued.length === 0) return;
    relaying = true;
    let bytes = 0;
    let count = 0;
    while (
      count < queued.length &&
      count < MAX_RELAY_CALL_BATCHES &&
      (count === 0 || bytes + (queued[count]?.json.length ?? 0) <= MAX_RELAY_CALL_BYTES)
    ) {
      bytes += queued[count]?.json.length ?? 0;
      count += 1;
    }
    const sending = queued.slice(0, count);
    queued = queued.slice(count);
    try {
      const body = `{"batches":[${sending.map((batch) => batch.json).join(',')}]}`;
      const response = await call('/internal/worker/jobs/events', body);
      // Failures in transit (the edge unreachable, 5xx after the retries) are thrown by `call` as they
      // are; an answer refusing the call is final.
      if (response.status === 401) throw new ReplicaGoneError();
      if (!response.ok) throw new RelayRefusedError(response.status, (await response.text()).slice(0, 500));
      const { kept } = (await response.json()) as { kept: boolean[] };
      sending.forEach((batch, index) => {
        if (kept[index]) batch.settle.resolve();
        else batch.settle.reject(new JobLostError(batch.jobId));
      });
    } catch (error) {
      for (const batch of sending) batch.settle.reject(error);
    } finally {
      relaying = false;
      void relay();
    }
  };

  return {
    /** Ships log lines to the edge, where `GET /api/deployments/{id}/logs` shows them. */
    async logs(lines: { at: string; line: string }[], tries = RETRIES) {
      const response = await call('/internal/worker/logs', { lines }, { tries });
      await response.body?.cancel();
    },
    async take(
      max: number,
      waitMs: number,
      signal: AbortSignal,
    ): Promise<{ jobs: WorkerJob[]; leaseMs: number }> {
      // Stopping cancels the wait, but not a reply already arriving: once its headers are here the
      // edge has leased the jobs in it, so the body is read whatever happens (else they would sit
      // leased to a worker that never saw them until the lease ran out).
      const waiting = new AbortController();
      const cancelWait = () => waiting.abort(signal.reason);
      signal.addEventListener('abort', cancelWait, { once: true });
      if (signal.aborted) cancelWait();
      let response: Response;
      try {
        // Tried once: a take whose reply was lost may have leased jobs this worker never saw, so the
        // agent hands those back (`releaseUnclaimed`) before it takes again, rather than a retry here
        // leaving them leased to nobody until their lease runs out.
        response = await call(
          '/internal/worker/jobs/take',
          { max, wait_ms: waitMs },
          { signal: waiting.signal, timeoutMs: waitMs + 10_000, tries: 1 },
        );
      } finally {
        signal.removeEventListener('abort', cancelWait);
      }
      if (response.status === 401) throw new ReplicaGoneError();
      if (!response.ok) throw new Error(`take answered ${response.status}: ${await response.text()}`);
      const body = (await response.json()) as { jobs: WorkerJob[]; lease_ms: number };
      return { jobs: body.jobs, leaseMs: body.lease_ms };
    },
    /** The job's uploaded file (the audio to transcribe). */
    async input(job: { id: string }, signal: AbortSignal): Promise<Blob> {
      const response = await call(`/internal/worker/jobs/${job.id}/input`, null, {
        signal,
        timeoutMs: 120_000,
        method: 'GET',
      });
      if (response.status === 409) throw new JobLostError(job.id);
      if (!response.ok) throw new Error(`input answered ${response.status}: ${await response.text()}`);
      return response.blob();
    },
    /** Stores a file the job produced (an image, speech); the result then names it as `{ file }`. */
    async output(job: { id: string }, name: string, file: Blob, signal: AbortSignal) {
      const path = `/internal/worker/jobs/${job.id}/outputs/${name}`;
      await expectOk(await call(path, file, { signal, timeoutMs: 120_000, method: 'PUT' }), job.id);
    },
    /** Hands a job back unfinished so another replica starts it now, not when the lease lapses. */
    async release(job: { id: string; attempt: number }) {
      const path = `/internal/worker/jobs/${job.id}/release`;
      await expectOk(await call(path, { attempt: job.attempt }, { timeoutMs: 5_000 }), job.id);
    },
    /**
     * Hands back every job leased to this replica but `holding` (ones a lost or abandoned take never
     * delivered). `tries` 1 when the caller asks again itself until it succeeds.
     */
    async releaseUnclaimed(holding: string[], tries = RETRIES): Promise<number> {
      const path = '/internal/worker/jobs/release-unclaimed';
      const response = await call(path, { holding }, { timeoutMs: 5_000, tries });
      if (!response.ok) throw new Error(`worker API answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { released: number }).released;
    },
    /** Relays a job's next batch of output (`seq` from 1), renewing its lease; JobLostError when not ours. */
    events(job: { id: string; attempt: number }, seq: number, chunks: Record<string, unknown>[]) {
      return new Promise<void>((resolve, reject) => {
        const json = JSON.stringify({ job_id: job.id, attempt: job.attempt, seq, chunks });
        queued.push({ jobId: job.id, json, settle: { resolve, reject } });
        void relay();
      });
    },
    async complete(
      job: { id: string; attempt: number },
      outcome: { result: Record<string, unknown> } | { error: { message: string; type?: string } },
      gpuMs: number,
    ) {
      const body = { ...outcome, gpu_ms: gpuMs, attempt: job.attempt };
      const response = await call(`/internal/worker/jobs/${job.id}/complete`, body);
      if (response.status === 413) throw new ResultTooLargeError((await response.text()).slice(0, 200));
      await expectOk(response, job.id);
    },
  };
}

export type WorkerClient = ReturnType<typeof createWorkerClient>;
