import { deployWarm } from '../bench/account.ts';
import type { MockEngine } from '../bench/mock-engine.ts';
import type { RunningStack } from '../bench/stacks.ts';
import { callMany } from './careful-client.ts';
import type { ReplyDroppingProxy } from './reply-dropping-proxy.ts';

/**
 * `enqueues` requests with Idempotency-Keys while, a moment in, every Redis reply is dropped for
 * `dropMs` (commands still run; their answers never come back, then the connections reset). Clients
 * retry what failed: every request must get its answer (0 missing), and the engine must have run
 * each job once (0 duplicated) — a retry of an enqueue whose reply was lost joins the first job.
 */
export async function redisDrop(
  stack: RunningStack,
  token: string,
  engine: MockEngine,
  proxy: ReplyDroppingProxy,
  options: { enqueues: number; connections: number; dropMs: number },
) {
  const deployment = await deployWarm(stack, token, { replicas: 2, concurrencyPerReplica: 64 });
  await engine.pace({ deltas: 1, intervalMs: 0 });
  const ranBefore = await engine.completions();
  const drop: { done: Promise<void> | null } = { done: null };
  const answers = await callMany(stack.edge, deployment.key, {
    count: options.enqueues,
    connections: options.connections,
    run: `redis-drop-${Date.now()}`,
    onAnswer: (answered) => {
      // A tenth of the way in, with requests in every stage of their path.
      if (answered === Math.ceil(options.enqueues / 10)) drop.done = proxy.dropRepliesFor(options.dropMs);
    },
  });
  await drop.done;
  const answered = answers.filter((answer) => answer !== null);
  const jobs = new Set(answered.map((answer) => answer.jobId));
  const ran = (await engine.completions()) - ranBefore;
  const missing = options.enqueues - answered.length;
  const duplicated = ran - jobs.size + (answered.length - jobs.size);
  return {
    passed: drop.done !== null && missing === 0 && duplicated === 0,
    detail:
      `${options.enqueues} requests, Redis replies dropped for ${options.dropMs / 1000} s: ` +
      `${missing} missing, ${duplicated} duplicated (${jobs.size} jobs, the engine ran ${ran})`,
  };
}
