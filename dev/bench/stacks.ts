import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devStackEnv, startDevStack, stopDevStack } from '../stack.ts';
import type { BenchStack } from './account.ts';

export type EdgeRuntime = 'node' | 'workerd';

export interface RunningStack extends BenchStack {
  runtime: EdgeRuntime;
  stop(): Promise<void>;
}

/**
 * `npm run dev` on free ports with its workers on `engineUrl`: the local cloud in one process, the
 * edge in another (workerd under wrangler dev, or Node), the agents, Redis and Postgres in their own,
 * so the load tool in this process shares no event loop with what it measures.
 */
export async function startStack(runtime: EdgeRuntime, engineUrl: string): Promise<RunningStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aicloud-bench-'));
  const stack = await devStackEnv(dataDir);
  const running = startDevStack({
    ...stack.env,
    ENGINE_URL: engineUrl,
    EDGE_RUNTIME: runtime,
    LOG_LEVEL: 'warn',
  });
  await running.ready;
  return {
    runtime,
    edge: stack.edge,
    mailOutbox: stack.mailOutbox,
    stop: async () => {
      await stopDevStack(running.child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
