import { type EngineAdapter, type JobFiles, UnsupportedJobError, type WorkerJob } from '../engines/engine.ts';
import {
  JobLostError,
  RelayRefusedError,
  ReplicaGoneError,
  ResultTooLargeError,
  type WorkerClient,
} from './client.ts';
import { errorMessage } from './error-message.ts';

/**
 * Chunks one batch carries at most (the edge refuses more, and a refused relay call fails every job
 * in it); while this many wait, the engine is held back until sends take them.
 */
const MAX_BATCH_CHUNKS = 256;

/**
 * Runs one job on the engine, relaying its chunks as they come: the first at once (time to first
 * token is the engine's own plus one hop), and the ones produced while a send is in flight together
 * in the next send, so batches grow with the engine's pace and the edge's latency, never on a timer.
 * When the edge says the job is no longer ours (client gone, deadline, re-queued) the engine call is
 * aborted and nothing more is sent.
 */
export async function runJob(
  job: WorkerJob,
  engine: EngineAdapter,
  client: WorkerClient,
  leaseMs: number,
  log: (line: string) => void,
) {
  // GPU time on a monotonic clock: a wall-clock step (NTP) must not bill an hour or a negative time.
  const started = performance.now();
  const elapsedMs = () => Math.max(0, Math.round(performance.now() - started));
  const abort = new AbortController();
  let pending: Record<string, unknown>[] = [];
  let sending: Promise<void> | null = null;
  let lost = false;
  let seq = 0;
  /** A batch whose send failed in transit: sent again, with its sequence number, before anything else. */
  let unsent: { seq: number; chunks: Record<string, unknown>[] } | null = null;
  /** When the edge last took a batch (renewing the lease); past a lease without one, the job is gone. */
  let deliveredAt = performance.now();

  /**
   * Sends what is pending (or, to renew the lease, an empty batch) unless a send is in flight. A send
   * the edge answers "not yours" stops the job; one lost in transit (the edge restarting, a network
   * blip) is sent again, as long as the lease it renews may still hold.
   */
  const send = (renew = false): Promise<void> | null => {
    if (sending || lost || (!unsent && pending.length === 0 && !renew)) return sending;
    if (!unsent) {
      seq += 1;
      unsent = { seq, chunks: pending.slice(0, MAX_BATCH_CHUNKS) };
      pending = pending.slice(MAX_BATCH_CHUNKS);
    }
    const outgoing = unsent;
    sending = client
      .events(job, outgoing.seq, outgoing.chunks)
      .then(
        () => {
          unsent = null;
          deliveredAt = performance.now();
        },
        (error: unknown) => {
          const final =
            error instanceof JobLostError ||
            error instanceof ReplicaGoneError ||
            error instanceof RelayRefusedError;
          if (final || performance.now() - deliveredAt > leaseMs) {
            lost = true;
            abort.abort(error);
          }
        },
      )
      .finally(() => {
        sending = null;
        void send();
      });
    return sending;
  };

  /** Resolves once everything emitted so far has been sent (or the job was lost). */
  const drain = async () => {
    for (;;) {
      const inFlight = send();
      if (!inFlight) return;
      await inFlight;
    }
  };

  const emit = async (chunk: Record<string, unknown>) => {
    if (lost) return false;
    pending.push(chunk);
    send();
    // Until the backlog is under a batch: a send resent after a failure in transit takes none of it,
    // so waiting for one send is not enough (the backlog grew past what one batch may carry).
    while (!lost && pending.length >= MAX_BATCH_CHUNKS) {
      const inFlight = send();
      if (!inFlight) break;
      await inFlight;
    }
    return !lost;
  };

  // Quiet jobs (nothing streamed) still renew their lease, or the edge would hand them to another worker.
  // Renewal goes on until the completion (result or failure) lands: one slowed by a busy edge must not
  // let the lease lapse, or another worker would run the job again.
  const renewal = setInterval(() => void send(true), Math.max(500, leaseMs / 3));
  try {
    const files: JobFiles = {
      input: () => client.input(job, abort.signal),
      output: (name, file) => client.output(job, name, file, abort.signal),
    };
    const result = await engine.run(job, emit, abort.signal, files);
    await drain();
    if (lost) return;
    const gpuMs = elapsedMs();
    try {
      await client.complete(job, { result }, gpuMs);
    } catch (error) {
      // The result could not be handed in (the edge kept failing): that is not the engine's failure,
      // and reporting one would overwrite a result the edge may have recorded before its reply was lost.
      if (error instanceof ResultTooLargeError || error instanceof JobLostError) throw error;
      log(`job ${job.id} result not delivered (${errorMessage(error)}): it runs again when its lease lapses`);
      return;
    }
    log(`job ${job.id} done in ${gpuMs} ms`);
  } catch (error) {
    await drain();
    if (lost || error instanceof JobLostError) {
      log(`job ${job.id} stopped: no longer ours`);
      return;
    }
    const invalid = error instanceof UnsupportedJobError || error instanceof ResultTooLargeError;
    // The edge takes at most 2,000 characters: a longer reason (an HTML error page) would get the
    // report refused and the job run again.
    const message = (invalid ? errorMessage(error) : `engine failure: ${errorMessage(error)}`).slice(0, 2000);
    log(`job ${job.id} failed: ${message}`);
    // A request the engine refused is the caller's to fix (400), not a server failure.
    const type = invalid ? 'invalid_request_error' : 'engine_error';
    await client
      .complete(job, { error: { message, type } }, elapsedMs())
      .catch((failure: unknown) => log(`job ${job.id} failure not delivered: ${errorMessage(failure)}`));
  } finally {
    clearInterval(renewal);
  }
}
