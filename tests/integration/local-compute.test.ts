import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCompute, startLocalCompute } from '../../dev/compute/server.ts';
import type { ReplicaSpec } from '../../functions/core/compute.ts';
import { LocalComputeProvider } from '../../functions/lib/compute/local.ts';

/**
 * Each scenario is a tiny worker whose behaviour is named by the replica's MODEL: runs until SIGTERM,
 * crashes at once, or ignores SIGTERM (and must be killed).
 */
const WORKER_SCRIPT = `
const mode = process.env.MODEL;
if (mode === 'crash') process.exit(3);
process.on('SIGTERM', () => { if (mode !== 'stubborn') process.exit(0); });
// Said once the SIGTERM handler is in place: a test that stops the worker after this sees a clean exit.
console.log('worker ' + process.env.REPLICA_ID + ' up for ' + process.env.ENDPOINT_ID);
setInterval(() => {}, 1000);
`;

const spec = (replicaId: string, model: string): ReplicaSpec => ({
  replicaId,
  orgId: 'org_test',
  endpointId: 'ep_test',
  gpuType: 'rtx4090',
  gpuCount: 1,
  engine: 'vllm',
  image: null,
  model,
  env: {},
  concurrency: 1,
  workerToken: 'wt_secret',
  controlPlaneUrl: 'http://127.0.0.1:9',
});

const waitFor = async (check: () => Promise<boolean>, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

describe('local compute provider', () => {
  let compute: LocalCompute;
  let provider: LocalComputeProvider;
  const output: string[] = [];

  beforeAll(async () => {
    compute = await startLocalCompute({
      port: 0,
      token: 'compute-token',
      stopGraceMs: 300,
      launch: (replica) => ({
        command: process.execPath,
        args: ['-e', WORKER_SCRIPT],
        env: { REPLICA_ID: replica.replicaId, ENDPOINT_ID: replica.endpointId, MODEL: replica.model ?? '' },
      }),
      onOutput: (replicaId, line) => output.push(`${replicaId}: ${line}`),
    });
    provider = new LocalComputeProvider(compute.url, 'compute-token');
  });
  afterAll(() => compute.close());

  const statusOf = async (replicaId: string) =>
    (await provider.list()).find((replica) => replica.replicaId === replicaId);

  it('starts a worker process once per replica id and stops it on request', async () => {
    const started = await provider.start(spec('rep_a', 'serve'));
    expect(started).toMatchObject({ replicaId: 'rep_a', providerRef: 'local-rep_a' });
    expect(started.startedAt).toBeInstanceOf(Date);

    const again = await provider.start(spec('rep_a', 'serve'));
    expect(again.providerRef).toBe(started.providerRef);
    await waitFor(async () => (await statusOf('rep_a'))?.status === 'running');
    await waitFor(async () => output.includes('rep_a: worker rep_a up for ep_test'));
    expect(output.filter((line) => line.startsWith('rep_a: worker'))).toHaveLength(1);

    await provider.stop(started.providerRef);
    expect(await statusOf('rep_a')).toMatchObject({ status: 'stopped', reason: 'exited with code 0' });
    // Stopping twice, or something unknown, succeeds: the orchestrator may retry.
    await provider.stop(started.providerRef);
    await provider.stop('local-rep_unknown');
  });

  it('reports a worker that exits on its own as failed, with the reason', async () => {
    await provider.start(spec('rep_crash', 'crash'));
    await waitFor(async () => (await statusOf('rep_crash'))?.status === 'failed');
    expect(await statusOf('rep_crash')).toMatchObject({ reason: 'exited with code 3' });
  });

  it('kills a worker that ignores SIGTERM after the grace period', async () => {
    const started = await provider.start(spec('rep_stubborn', 'stubborn'));
    await waitFor(async () => output.includes('rep_stubborn: worker rep_stubborn up for ep_test'));
    await provider.stop(started.providerRef);
    expect(await statusOf('rep_stubborn')).toMatchObject({ status: 'stopped', reason: 'killed by SIGKILL' });
  });

  it('refuses callers without the token and malformed replica specs', async () => {
    const anonymous = await fetch(`${compute.url}/replicas`);
    expect(anonymous.status).toBe(401);
    await expect(new LocalComputeProvider(compute.url, 'wrong-token').list()).rejects.toThrow('401');

    const headers = { authorization: 'Bearer compute-token', 'content-type': 'application/json' };
    const notJson = await fetch(`${compute.url}/replicas`, { method: 'POST', headers, body: '{' });
    expect(notJson.status).toBe(400);
    const incomplete = await fetch(`${compute.url}/replicas`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ replicaId: 'rep_x' }),
    });
    expect(incomplete.status).toBe(400);
    expect((await incomplete.json()).error).toContain('workerToken');
    expect(await statusOf('rep_x')).toBeUndefined();
  });
});
