import { type EngineAdapter, type JobFiles, UnsupportedJobError, type WorkerJob } from '../engines/engine.ts';
import { JobLostError, type WorkerClient } from './client.ts';

/** Output is sent in small batches: at most this many chunks, or this often. */
const BATCH_CHUNKS = 16;
const BATCH_MS = 50;

/**
 * Runs one job on the engine, relaying its chunks in batches. When the edge says the job is no longer
 * ours (client gone, deadline, re-queued) the engine call is aborted and nothing more is sent.
 */
export async function runJob(
  job: WorkerJob,
  engine: EngineAdapter,
  client: WorkerClient,
  leaseMs: number,
  log: (line: string) => void,
) {
  const started = Date.now();
  const abort = new AbortController();
  let pending: Record<string, unknown>[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let lost = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;

  const flush = (renew = false) => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0 && !renew) return flushing;
    const batch = pending;
    pending = [];
    flushing = flushing.then(async () => {
      if (lost) return;
      try {
        seq += 1;
        await client.events(job, seq, batch);
      } catch (error) {
        lost = true;
        abort.abort(error);
      }
    });
    return flushing;
  };

  const emit = async (chunk: Record<string, unknown>) => {
    if (lost) return false;
    pending.push(chunk);
    if (pending.length >= BATCH_CHUNKS) await flush();
    else timer ??= setTimeout(() => void flush(), BATCH_MS);
    return !lost;
  };

  // Quiet jobs (nothing streamed) still renew their lease, or the edge would hand them to another worker.
  const renewal = setInterval(() => void flush(true), Math.max(500, leaseMs / 3));
  try {
    const files: JobFiles = {
      input: () => client.input(job, abort.signal),
      output: (name, file) => client.output(job, name, file, abort.signal),
    };
    const result = await engine.run(job, emit, abort.signal, files).finally(() => clearInterval(renewal));
    await flush();
    if (lost) return;
    await client.complete(job, { result }, Date.now() - started);
    log(`job ${job.id} done in ${Date.now() - started} ms`);
  } catch (error) {
    clearInterval(renewal);
    await flush().catch(() => {});
    if (lost || error instanceof JobLostError) {
      log(`job ${job.id} stopped: no longer ours`);
      return;
    }
    const invalid = error instanceof UnsupportedJobError;
    const message =
      error instanceof UnsupportedJobError
        ? error.message
        : `engine failure: ${error instanceof Error ? error.message : String(error)}`;
    log(`job ${job.id} failed: ${message}`);
    // A request the engine refused is the caller's to fix (400), not a server failure.
    const type = invalid ? 'invalid_request_error' : 'engine_error';
    await client.complete(job, { error: { message, type } }, Date.now() - started).catch(() => {});
  }
}
