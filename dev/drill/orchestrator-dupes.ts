import { Client } from '@upstash/qstash';
import { RECONCILE_PATH } from '../../functions/lib/orchestrator/nudge.ts';
import { type Deployment, deploy, sendChat } from '../bench/account.ts';
import { endpointReplicas } from '../bench/provider.ts';
import type { RunningStack } from '../bench/stacks.ts';

/**
 * Scale-up nudges for one deployment published many times over, each twice and with random delays
 * (as QStash may redeliver), while requests pile up: the local provider, sampled every 100 ms, must
 * never run more of its replicas than `max_replicas`, and every request must be answered.
 */
export async function orchestratorDupes(
  stack: RunningStack,
  token: string,
  options: { maxReplicas: number; messages: number; requests: number; maxDelaySeconds: number },
) {
  const deployment: Deployment = await deploy(stack, token, {
    replicas: options.maxReplicas,
    minReplicas: 0,
    concurrencyPerReplica: 2,
  });
  const qstash = new Client({ baseUrl: stack.qstashUrl, token: stack.secrets.qstashToken });
  let most = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      most = Math.max(most, (await endpointReplicas(stack.compute, deployment.id)).length);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const url = new URL(RECONCILE_PATH, stack.edge).toString();
  const publishes = Array.from({ length: options.messages }, () => {
    const delay = Math.floor(Math.random() * (options.maxDelaySeconds + 1));
    const message = { url, body: { endpoint_id: deployment.id }, delay };
    return Promise.all([qstash.publishJSON(message), qstash.publishJSON(message)]);
  });
  const answers = await Promise.all(
    Array.from({ length: options.requests }, async () => {
      const response = await sendChat(stack.edge, deployment.key);
      await response.arrayBuffer();
      return response.status;
    }),
  );
  await Promise.all(publishes);
  // Delayed messages still arrive after the last answer.
  await new Promise((resolve) => setTimeout(resolve, (options.maxDelaySeconds + 2) * 1000));
  sampling = false;
  await sampler;
  const answered = answers.filter((status) => status === 200).length;
  return {
    passed: most <= options.maxReplicas && most > 0 && answered === options.requests,
    detail:
      `${options.messages * 2} reconcile messages (each twice, delays 0–${options.maxDelaySeconds} s) and ` +
      `${options.requests} requests: at most ${most} replicas ran (max_replicas ${options.maxReplicas}); ` +
      `${answered}/${options.requests} requests answered`,
  };
}
