import { deployWarm, keySpendMicroUsd } from '../bench/account.ts';
import type { MockEngine } from '../bench/mock-engine.ts';
import { endpointReplicas } from '../bench/provider.ts';
import type { RunningStack } from '../bench/stacks.ts';
import { type Answer, callMany } from './careful-client.ts';

/**
 * `jobs` requests over 4 warm workers while one worker process is SIGKILLed every `everyMs`: every
 * request must be answered (a dead worker's job is re-queued when its lease lapses, a dead replica is
 * replaced), and the key's metered spend must equal the sum of the answered jobs' costs — no job's
 * GPU time counted twice.
 */
export async function killWorkers(
  stack: RunningStack,
  token: string,
  engine: MockEngine,
  options: { jobs: number; workers: number; everyMs: number; connections: number },
) {
  const deployment = await deployWarm(stack, token, {
    replicas: options.workers,
    concurrencyPerReplica: 16,
  });
  // Each job holds its worker for about 20 ms, so kills land on running jobs.
  await engine.pace({ deltas: 4, intervalMs: 5 });
  const spendBefore = await keySpendMicroUsd(stack, token, deployment.keyId);
  let kills = 0;
  let sending = true;
  const killer = (async () => {
    while (sending) {
      await new Promise((resolve) => setTimeout(resolve, options.everyMs));
      if (!sending) break;
      const live = (await endpointReplicas(stack.compute, deployment.id)).filter(
        (replica) => replica.pid !== null,
      );
      const victim = live[Math.floor(Math.random() * live.length)];
      if (victim?.pid) {
        try {
          process.kill(victim.pid, 'SIGKILL');
          kills++;
        } catch {
          // It exited on its own meanwhile.
        }
      }
    }
  })();
  const answers = await callMany(stack.edge, deployment.key, {
    count: options.jobs,
    connections: options.connections,
    run: `kill-${Date.now()}`,
  });
  sending = false;
  await killer;
  const answered = answers.filter((answer): answer is Answer => answer !== null);
  const distinctJobs = new Set(answered.map((answer) => answer.jobId)).size;
  // Spend is recorded as each job completes; give the last completions a moment to land.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const spent = (await keySpendMicroUsd(stack, token, deployment.keyId)) - spendBefore;
  const charged = answered.reduce((sum, answer) => sum + answer.costMicroUsd, 0);
  const lost = options.jobs - answered.length;
  // Spend is kept in micro-dollars per job; the key's total is read back in dollars (float).
  const doubleBilled = Math.abs(spent - charged) > answered.length;
  return {
    passed: lost === 0 && distinctJobs === answered.length && !doubleBilled && kills > 0,
    detail:
      `${options.jobs} jobs, ${kills} workers killed (one every ${options.everyMs / 1000} s): ` +
      `${lost} lost, ${answered.length - distinctJobs} answered twice; ` +
      `key spend $${(spent / 1e6).toFixed(6)} for answered jobs costing $${(charged / 1e6).toFixed(6)}` +
      (doubleBilled ? ' (MISMATCH)' : ''),
  };
}
