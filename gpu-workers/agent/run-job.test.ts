import { describe, expect, it } from 'vitest';
import type { EngineAdapter, WorkerJob } from '../engines/engine.ts';
import { ResultTooLargeError, type WorkerClient } from './client.ts';
import { runJob } from './run-job.ts';

const job: WorkerJob = { id: 'job_1', kind: 'chat', input: {}, deadline_ms: 60_000, attempt: 1 };
/** The shortest renewal period the agent uses (a third of the lease, never under 500 ms). */
const LEASE_MS = 1_500;
/** A completion this slow spans two renewal periods. */
const SLOW_COMPLETION_MS = 1_300;

/** A worker API that records lease renewals (empty event batches) and answers completions slowly. */
function slowCompletionClient() {
  const calls: { kind: 'renewal' | 'complete-start' | 'complete-end'; at: number }[] = [];
  const completions: unknown[] = [];
  const client = {
    events: async (_job: unknown, _seq: number, chunks: unknown[]) => {
      if (chunks.length === 0) calls.push({ kind: 'renewal', at: Date.now() });
    },
    complete: async (_job: unknown, outcome: unknown) => {
      calls.push({ kind: 'complete-start', at: Date.now() });
      await new Promise((resolve) => setTimeout(resolve, SLOW_COMPLETION_MS));
      completions.push(outcome);
      calls.push({ kind: 'complete-end', at: Date.now() });
    },
  } as unknown as WorkerClient;
  const renewalsDuringCompletion = () => {
    const start = calls.find((call) => call.kind === 'complete-start')?.at ?? Number.POSITIVE_INFINITY;
    const end = calls.find((call) => call.kind === 'complete-end')?.at ?? Number.NEGATIVE_INFINITY;
    return calls.filter((call) => call.kind === 'renewal' && call.at >= start && call.at <= end).length;
  };
  return { client, completions, renewalsDuringCompletion };
}

const engine = (run: EngineAdapter['run']): EngineAdapter => ({ name: 'test', ready: async () => {}, run });

describe('a job the agent runs', () => {
  it('keeps its lease while a slow completion is on its way', async () => {
    const { client, completions, renewalsDuringCompletion } = slowCompletionClient();
    await runJob(
      job,
      engine(async () => ({ answer: 42 })),
      client,
      LEASE_MS,
      () => {},
    );
    expect(completions).toEqual([{ result: { answer: 42 } }]);
    expect(renewalsDuringCompletion()).toBeGreaterThanOrEqual(2);
  });

  it('keeps its lease while a slow failure report is on its way, so the failed job is not run again', async () => {
    const { client, completions, renewalsDuringCompletion } = slowCompletionClient();
    const failing = engine(async () => {
      throw new Error('CUDA out of memory');
    });
    await runJob(job, failing, client, LEASE_MS, () => {});
    expect(completions).toEqual([
      { error: { message: 'engine failure: CUDA out of memory', type: 'engine_error' } },
    ]);
    expect(renewalsDuringCompletion()).toBeGreaterThanOrEqual(2);
  });

  it('tells the caller to send less when the edge refuses the result as too large, instead of failing as the engine', async () => {
    const completions: unknown[] = [];
    const client = {
      events: async () => {},
      complete: async (_job: unknown, outcome: { result?: unknown }) => {
        if (outcome.result) throw new ResultTooLargeError('Request body is larger than 8388608 bytes.');
        completions.push(outcome);
      },
    } as unknown as WorkerClient;
    await runJob(
      job,
      engine(async () => ({ data: ['many vectors'] })),
      client,
      LEASE_MS,
      () => {},
    );
    expect(completions).toEqual([
      {
        error: {
          message: expect.stringContaining('Ask for less per request'),
          type: 'invalid_request_error',
        },
      },
    ]);
  });

  it('never reports an engine failure for a result the edge could not take in (it may have recorded it)', async () => {
    const completions: unknown[] = [];
    const lines: string[] = [];
    const client = {
      events: async () => {},
      complete: async (_job: unknown, outcome: unknown) => {
        completions.push(outcome);
        throw new Error('/internal/worker/jobs/job_1/complete: 503 database unavailable');
      },
    } as unknown as WorkerClient;
    await runJob(
      job,
      engine(async () => ({ answer: 42 })),
      client,
      LEASE_MS,
      (line) => lines.push(line),
    );
    // Only the result was sent; an `engine_error` after it would have turned a success into a failure.
    expect(completions).toEqual([{ result: { answer: 42 } }]);
    expect(lines.at(-1)).toMatch(/result not delivered .*503.*runs again when its lease lapses/);
  });

  it('cuts a long failure reason to what the edge accepts, so the report is not refused', async () => {
    const { client, completions } = slowCompletionClient();
    const htmlPage = `<html>${'x'.repeat(10_000)}</html>`;
    await runJob(
      job,
      engine(async () => {
        throw new Error(htmlPage);
      }),
      client,
      LEASE_MS,
      () => {},
    );
    const [{ error }] = completions as [{ error: { message: string } }];
    expect(error.message).toHaveLength(2000);
    expect(error.message.startsWith('engine failure: <html>')).toBe(true);
  });

  it('sends a batch lost in transit again, with its sequence number, and finishes the job', async () => {
    const sent: { seq: number; chunks: unknown[] }[] = [];
    const completions: unknown[] = [];
    let failures = 1;
    const client = {
      events: async (_job: unknown, seq: number, chunks: unknown[]) => {
        sent.push({ seq, chunks });
        // The edge restarting: the first relay call never gets through.
        if (failures-- > 0) throw new Error('fetch failed: ECONNREFUSED');
      },
      complete: async (_job: unknown, outcome: unknown) => {
        completions.push(outcome);
      },
    } as unknown as WorkerClient;
    await runJob(
      job,
      engine(async (_job, emit) => {
        await emit({ delta: 'a' });
        await new Promise((resolve) => setTimeout(resolve, 20));
        await emit({ delta: 'b' });
        return { answer: 'ab' };
      }),
      client,
      LEASE_MS,
      () => {},
    );
    expect(sent[0]).toEqual({ seq: 1, chunks: [{ delta: 'a' }] });
    expect(sent[1]).toEqual({ seq: 1, chunks: [{ delta: 'a' }] });
    expect(sent.filter((batch) => batch.chunks.length > 0).slice(2)).toEqual([
      { seq: 2, chunks: [{ delta: 'b' }] },
    ]);
    expect(completions).toEqual([{ result: { answer: 'ab' } }]);
  });

  it('never sends the edge more than 256 chunks at once, even after a relay outage, and loses none', async () => {
    const sent: { seq: number; chunks: { delta: string }[] }[] = [];
    let failures = 3;
    const client = {
      events: async (_job: unknown, seq: number, chunks: { delta: string }[]) => {
        sent.push({ seq, chunks });
        await new Promise((resolve) => setTimeout(resolve, 5));
        // The edge unreachable for a few relay calls while the engine streams fast.
        if (chunks.length > 0 && failures-- > 0) throw new Error('fetch failed: ECONNREFUSED');
      },
      complete: async () => {},
    } as unknown as WorkerClient;
    await runJob(
      job,
      engine(async (_job, emit) => {
        for (let i = 0; i < 1_000; i++) await emit({ delta: String(i) });
        return { answer: 'done' };
      }),
      client,
      LEASE_MS,
      () => {},
    );
    expect(Math.max(...sent.map((batch) => batch.chunks.length))).toBeLessThanOrEqual(256);
    // Each sequence number once delivered (the last send of it), in order, every chunk exactly once.
    const delivered = new Map(sent.map((batch) => [batch.seq, batch.chunks]));
    const deltas = [...delivered.entries()].sort(([a], [b]) => a - b).flatMap(([, chunks]) => chunks);
    expect(deltas.map((chunk) => chunk.delta)).toEqual(Array.from({ length: 1_000 }, (_, i) => String(i)));
  });

  it('stops a job once its batches have failed for longer than its lease (it is re-queued by then)', async () => {
    const completions: unknown[] = [];
    const lines: string[] = [];
    const client = {
      events: async () => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        throw new Error('fetch failed: ECONNREFUSED');
      },
      complete: async (_job: unknown, outcome: unknown) => {
        completions.push(outcome);
      },
    } as unknown as WorkerClient;
    await runJob(
      job,
      engine(async (_job, emit, signal) => {
        for (let i = 0; !signal.aborted && i < 100; i++) {
          await emit({ delta: String(i) });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        signal.throwIfAborted();
        return { answer: 'never' };
      }),
      client,
      LEASE_MS,
      (line) => lines.push(line),
    );
    expect(completions).toEqual([]);
    expect(lines.at(-1)).toBe('job job_1 stopped: no longer ours');
  });
});
