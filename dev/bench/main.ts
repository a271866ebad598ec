/**
 * `npm run bench`: what the platform adds to a model's latency, measured on this machine. Starts the
 * local stack with its workers pointed at a paced mock engine (the edge app in Node, or with
 * BENCH_EDGE=workerd in wrangler dev as `npm run dev` runs it), sets up a customer
 * through the public API, drives load with autocannon and prints a table; the figures are also
 * written to test-artifacts/bench.json with the machine they were taken on.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { addFunds, deployWarm, signUp, waitForReplicas } from './account.ts';
import { startMockEngine } from './mock-engine.ts';
import { startStack } from './stacks.ts';
import { warmPath } from './warm-path.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const settings = z
  .object({
    /** Seconds each load run lasts (after a 1-second warm-up). */
    BENCH_SECONDS: z.coerce.number().int().min(1).max(600).default(10),
    /** Where the edge app runs: Node (default), or workerd under wrangler dev as `npm run dev` runs it. */
    BENCH_EDGE: z.enum(['node', 'workerd']).default('node'),
  })
  .parse(process.env);
const SECONDS = settings.BENCH_SECONDS;
const CONCURRENCIES = [1, 10, 64];

const machine = () => ({
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
});

async function main() {
  const engine = await startMockEngine();
  const stack = await startStack(settings.BENCH_EDGE, engine.url);
  try {
    const token = await signUp(stack);
    await addFunds(stack, token, 100);
    const deployment = await deployWarm(stack, token, { replicas: 2, concurrencyPerReplica: 64 });
    // The first request wakes the orchestrator; the bench starts once both replicas poll.
    await fetch(`${stack.edge}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${deployment.key}` },
      body: JSON.stringify({ model: 'llama-3.1-8b-instruct', messages: [{ role: 'user', content: 'wake' }] }),
    });
    await waitForReplicas(stack, token, deployment.id, 2);

    const warm = await warmPath({
      edge: stack.edge,
      engine,
      deployment,
      concurrencies: CONCURRENCIES,
      seconds: SECONDS,
    });
    console.log(
      `\nWarm path (edge in ${stack.runtime}): non-streaming chat completion, engine answers at once`,
    );
    console.table(
      warm.map((row) => ({
        concurrency: row.concurrency,
        'direct req/s': row.direct.requestsPerSecond,
        'direct p50 ms': row.direct.p50Ms,
        'direct p99 ms': row.direct.p99Ms,
        'platform req/s': row.platform.requestsPerSecond,
        'platform p50 ms': row.platform.p50Ms,
        'platform p99 ms': row.platform.p99Ms,
        'added p50 ms': row.addedP50Ms,
        'added p99 ms': row.addedP99Ms,
        failures: row.platform.failures + row.direct.failures,
      })),
    );
    const out = resolve(ROOT, 'test-artifacts');
    mkdirSync(out, { recursive: true });
    const report = {
      takenAt: new Date().toISOString(),
      machine: machine(),
      secondsPerRun: SECONDS,
      warmPath: warm,
    };
    writeFileSync(join(out, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwritten to ${join(out, 'bench.json')}`);
  } finally {
    await stack.stop();
    await engine.close();
  }
}

main().then(
  // Connections the load tool left open would keep the process alive.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
