import { api, type BenchStack, type Deployment, poll } from './account.ts';
import { percentile } from './percentile.ts';
import { type ComputeApi, providerReplicas } from './provider.ts';

export interface ColdStartSample {
  /** Request sent → the provider received the start call: queue, nudge, QStash, orchestrator. */
  controlPlaneMs: number;
  /** Start call → first token: the worker process booting, polling, and the engine answering. */
  workerMs: number;
  totalMs: number;
}

export interface ColdStartResult {
  samples: ColdStartSample[];
  controlPlaneP50Ms: number;
  totalP50Ms: number;
}

/** Streams one completion and answers when its first content delta arrived (ms since epoch). */
async function firstTokenAt(edge: string, key: string): Promise<number> {
  const response = await fetch(`${edge}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      model: 'llama-3.1-8b-instruct',
      messages: [{ role: 'user', content: 'wake up' }],
      stream: true,
    }),
  });
  if (!response.ok || !response.body) throw new Error(`cold request answered ${response.status}`);
  const decoder = new TextDecoder();
  let text = '';
  const reader = response.body.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    text += decoder.decode(read.value, { stream: true });
    if (/"content":"[^"]/.test(text)) {
      const at = Date.now();
      await reader.cancel().catch(() => {});
      return at;
    }
  }
  throw new Error('the cold request ended without a token');
}

/**
 * Requests on a deployment scaled to zero: each sample stops the deployment, waits for its replica to
 * go, starts it again (with no replica), and times one streamed request to its first token, split at the moment
 * the local provider received the orchestrator's start call.
 */
export async function coldStart(options: {
  stack: BenchStack;
  compute: ComputeApi;
  token: string;
  deployment: Deployment;
  samples: number;
}): Promise<ColdStartResult> {
  const { stack, compute, token, deployment } = options;
  const samples: ColdStartSample[] = [];
  for (let index = 0; index < options.samples; index++) {
    await api(stack, 'POST', `/api/deployments/${deployment.id}/stop`, undefined, token);
    await poll(
      'the stopped deployment to have no replica',
      async () => {
        const detail = await api<{ runtime: { replicas: { active: number; starting: number } } }>(
          stack,
          'GET',
          `/api/deployments/${deployment.id}`,
          undefined,
          token,
        );
        const { active, starting } = detail.runtime.replicas;
        return active + starting === 0 ? true : undefined;
      },
      60_000,
    );
    await api(stack, 'POST', `/api/deployments/${deployment.id}/start`, undefined, token);
    const known = new Set((await providerReplicas(compute)).map((replica) => replica.replicaId));
    const sent = Date.now();
    const tokenAt = await firstTokenAt(stack.edge, deployment.key);
    const started = (await providerReplicas(compute)).find(
      (replica) => !known.has(replica.replicaId) && replica.startedAt !== null,
    );
    if (!started?.startedAt) throw new Error('no replica was started for the cold request');
    const startCallAt = new Date(started.startedAt).getTime();
    samples.push({
      controlPlaneMs: startCallAt - sent,
      workerMs: tokenAt - startCallAt,
      totalMs: tokenAt - sent,
    });
  }
  return {
    samples,
    controlPlaneP50Ms: percentile(
      samples.map((sample) => sample.controlPlaneMs),
      50,
    ),
    totalP50Ms: percentile(
      samples.map((sample) => sample.totalMs),
      50,
    ),
  };
}
