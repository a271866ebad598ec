import type { Deployment } from './account.ts';
import { type LoadResult, load } from './load.ts';
import type { MockEngine } from './mock-engine.ts';
import { cpuPerRequest, stackCpu } from './process-cpu.ts';

export interface WarmPathRow {
  concurrency: number;
  direct: LoadResult;
  platform: LoadResult;
  /** What the full path adds to the engine's own median latency. */
  addedP50Ms: number;
  addedP99Ms: number;
  /** CPU ms the stack (edge, agents, stand-ins, Redis, Postgres) spent per request; null off Linux. */
  cpuMsPerRequest: ReturnType<typeof cpuPerRequest> | null;
}

const BODY = {
  model: 'llama-3.1-8b-instruct',
  messages: [{ role: 'user', content: 'Say ok.' }],
  max_tokens: 1,
};

/**
 * Non-streaming chat completions through the whole path (API key, balance and caps, queue, worker
 * agent, engine) against the same request sent to the engine directly, at each concurrency.
 */
export async function warmPath(options: {
  edge: string;
  engine: MockEngine;
  deployment: Deployment;
  concurrencies: number[];
  seconds: number;
  /** The local stack's root process, whose tree's CPU time is counted. */
  stackPid: number;
}): Promise<WarmPathRow[]> {
  await options.engine.pace({ deltas: 1, intervalMs: 0 });
  const rows: WarmPathRow[] = [];
  for (const concurrency of options.concurrencies) {
    const direct = await load({
      url: `${options.engine.url}/v1/chat/completions`,
      body: BODY,
      connections: concurrency,
      seconds: options.seconds,
    });
    const platform = await load({
      url: `${options.edge}/v1/chat/completions`,
      body: BODY,
      headers: { authorization: `Bearer ${options.deployment.key}` },
      connections: concurrency,
      seconds: options.seconds,
      probe: () => stackCpu(options.stackPid),
    });
    const [before, after] = platform.probes ?? [null, null];
    rows.push({
      concurrency,
      direct,
      platform,
      addedP50Ms: platform.p50Ms - direct.p50Ms,
      addedP99Ms: platform.p99Ms - direct.p99Ms,
      cpuMsPerRequest: before && after ? cpuPerRequest(before, after, platform.requests) : null,
    });
  }
  return rows;
}
