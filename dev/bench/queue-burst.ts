import autocannon from 'autocannon';
import type { Deployment } from './account.ts';
import type { MockEngine } from './mock-engine.ts';

export interface QueueBurstResult {
  jobs: number;
  workers: number;
  seconds: number;
  jobsPerSecond: number;
  /** Requests that did not get their answer (non-2xx, connection errors, timeouts). */
  lost: number;
  /** Completions the engine ran beyond one per answered job: a job run twice. */
  duplicated: number;
  /** Requests the load tool gave up on (no answer within 120 s) and sent again. */
  clientTimeouts: number;
}

/**
 * A burst of `jobs` non-streaming requests, `connections` in flight at a time, over the deployment's
 * warm workers: how fast the queue drains, and whether every job ran exactly once (the engine counts
 * the completions it was asked for).
 */
export async function queueBurst(options: {
  edge: string;
  engine: MockEngine;
  deployment: Deployment;
  workers: number;
  jobs: number;
  connections: number;
}): Promise<QueueBurstResult> {
  await options.engine.pace({ deltas: 1, intervalMs: 0 });
  // Requests an earlier scenario left in flight (its load tool stops with up to `connections` of them
  // still queued) finish first: counted here they would read as jobs run twice.
  let before = await options.engine.completions();
  for (let quiet = 0; quiet < 3; ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = await options.engine.completions();
    quiet = now === before ? quiet + 1 : 0;
    before = now;
  }
  const result = await autocannon({
    url: `${options.edge}/v1/chat/completions`,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${options.deployment.key}`,
    },
    body: JSON.stringify({
      model: 'llama-3.1-8b-instruct',
      messages: [{ role: 'user', content: 'Say ok.' }],
      max_tokens: 1,
    }),
    connections: Math.min(options.connections, options.jobs),
    amount: options.jobs,
    timeout: 120,
  });
  const answered = result['2xx'];
  const ran = (await options.engine.completions()) - before;
  const seconds = result.duration;
  return {
    jobs: options.jobs,
    workers: options.workers,
    seconds: Math.round(seconds * 10) / 10,
    jobsPerSecond: Math.round(answered / seconds),
    lost: options.jobs - answered,
    duplicated: Math.max(0, ran - answered),
    clientTimeouts: result.timeouts,
  };
}
