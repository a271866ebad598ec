import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalSecrets } from '../secrets.ts';
import { devStackEnv, startDevStack, stopDevStack } from '../stack.ts';
import type { BenchStack } from './account.ts';
import type { ComputeApi } from './provider.ts';

export type EdgeRuntime = 'node' | 'workerd';

export interface RunningStack extends BenchStack {
  runtime: EdgeRuntime;
  /** The stack's root process (`npm run dev`'s): every part of the stack runs under it. */
  pid: number;
  /** The local compute provider, which the orchestrator's start calls reach. */
  compute: ComputeApi;
  /** The local Stripe and QStash, and the credentials of this stack's local services. */
  stripeUrl: string;
  qstashUrl: string;
  secrets: LocalSecrets;
  /** The embedded Postgres, and the Neon proxy in front of it, as the edge reaches them. */
  databaseUrl: string;
  neonProxyUrl: string;
  /** Kills the edge process and starts it again (as a deploy cuts connections); resolves once it serves. */
  restartEdge(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `npm run dev` on free ports with its workers on `engineUrl`: the local cloud in one process, the
 * edge in another (workerd under wrangler dev, or Node), the agents, Redis and Postgres in their own,
 * so the load tool in this process shares no event loop with what it measures.
 */
export async function startStack(
  runtime: EdgeRuntime,
  engineUrl: string,
  env: { REDIS_URL?: string } = {},
): Promise<RunningStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aicloud-bench-'));
  const stack = await devStackEnv(dataDir);
  const running = startDevStack({
    ...stack.env,
    ...env,
    ENGINE_URL: engineUrl,
    EDGE_RUNTIME: runtime,
    LOG_LEVEL: 'warn',
  });
  await running.ready;
  const secrets = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as LocalSecrets;
  return {
    runtime,
    pid: running.child.pid ?? 0,
    compute: { url: `http://127.0.0.1:${stack.env.COMPUTE_PORT}`, token: secrets.computeToken },
    stripeUrl: `http://127.0.0.1:${stack.env.STRIPE_PORT}`,
    qstashUrl: `http://127.0.0.1:${stack.env.QSTASH_PORT}`,
    secrets,
    databaseUrl: `postgres://postgres:postgres@127.0.0.1:${stack.env.POSTGRES_PORT}/aicloud`,
    neonProxyUrl: `http://127.0.0.1:${stack.env.NEON_PROXY_PORT}`,
    restartEdge: async () => {
      const restarted = running.output().length;
      if (running.child.pid) process.kill(running.child.pid, 'SIGUSR2');
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
        if (running.output().slice(restarted).includes('edge restarted')) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the edge did not restart within 60 s');
    },
    edge: stack.edge,
    mailOutbox: stack.mailOutbox,
    stop: async () => {
      await stopDevStack(running.child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
