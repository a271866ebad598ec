/**
 * `npm run bench`: what the platform adds to a model's latency, measured on this machine. Starts the
 * local stack with its workers pointed at a paced mock engine (the edge app in Node, or with
 * BENCH_EDGE=workerd in wrangler dev as `npm run dev` runs it), sets up a customer through the public
 * API, drives load and prints a table per scenario; the figures are also written to
 * test-artifacts/bench.json with the machine they were taken on.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { addFunds, deploy, deployWarm, signUp } from './account.ts';
import { coldStart } from './cold-start.ts';
import { hopFloor } from './hop-floor.ts';
import { metering } from './metering.ts';
import { type MockEngine, startMockEngine } from './mock-engine.ts';
import { queueBurst } from './queue-burst.ts';
import { startStack } from './stacks.ts';
import { streaming } from './streams.ts';
import { warmPath } from './warm-path.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCENARIOS = ['floor', 'warm', 'streaming', 'cold', 'queue', 'metering'] as const;
const counts = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'must be whole numbers separated by commas')
  .transform((text) => text.split(',').map(Number));
const settings = z
  .object({
    /** Seconds each warm-path load run lasts (after a 1-second warm-up). */
    BENCH_SECONDS: z.coerce.number().int().min(1).max(600).default(10),
    /** Where the edge app runs: Node (default), or workerd under wrangler dev as `npm run dev` runs it. */
    BENCH_EDGE: z.enum(['node', 'workerd']).default('node'),
    /** Which scenarios run, comma-separated (all by default). */
    BENCH_ONLY: z
      .string()
      .transform((text) => text.split(','))
      .pipe(z.array(z.enum(SCENARIOS)))
      .default([...SCENARIOS]),
    BENCH_CONCURRENCY: counts.default([1, 10, 64]),
    BENCH_STREAMS: counts.default([1, 100, 500]),
    /** Loopback round trips per request for the machine's floor (a bare server, no platform). */
    BENCH_FLOOR_HOPS: counts.default([0, 1, 2, 4, 12]),
    BENCH_QUEUE_JOBS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    BENCH_COLD_SAMPLES: z.coerce.number().int().min(1).max(20).default(3),
    BENCH_USAGE_EVENTS: z.coerce.number().int().min(1).max(1_000_000).default(2_000),
  })
  .parse(process.env);
const WORKERS = 4;
const STREAM_DELTAS = 64;
const STREAM_INTERVAL_MS = 20;

const machine = () => ({
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
});

const FLOOR_CONCURRENCY = 10;

async function main() {
  const engine = await startMockEngine();
  const runs = new Set(settings.BENCH_ONLY);
  const report: Record<string, unknown> = {
    takenAt: new Date().toISOString(),
    machine: machine(),
    edge: settings.BENCH_EDGE,
  };
  try {
    if (runs.has('floor')) await floor(engine, report);
    if (runs.size > (runs.has('floor') ? 1 : 0)) await platform(engine, report, runs);
    const out = resolve(ROOT, 'test-artifacts');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwritten to ${join(out, 'bench.json')}`);
  } finally {
    await engine.close();
  }
}

/** Run first, before the stack starts, so nothing else runs beside it. */
async function floor(engine: MockEngine, report: Record<string, unknown>) {
  const rows = await hopFloor({
    engineUrl: engine.url,
    hops: settings.BENCH_FLOOR_HOPS,
    connections: FLOOR_CONCURRENCY,
    seconds: settings.BENCH_SECONDS,
  });
  report.hopFloor = { concurrency: FLOOR_CONCURRENCY, rows };
  console.log(
    `\nFloor: a bare Node server making N loopback calls per request, concurrency ${FLOOR_CONCURRENCY} (no platform)`,
  );
  console.table(
    rows.map((row) => ({
      'calls per request': row.hops,
      'req/s': row.requestsPerSecond,
      'p50 ms': row.p50Ms,
      'p99 ms': row.p99Ms,
      failures: row.failures,
    })),
  );
}

async function platform(engine: MockEngine, report: Record<string, unknown>, runs: Set<string>) {
  const stack = await startStack(settings.BENCH_EDGE, engine.url);
  try {
    const token = await signUp(stack);
    await addFunds(stack, token, 500);
    // Four warm workers, each taking up to 128 jobs at once: enough slots for 500 streams.
    const deployment = await deployWarm(stack, token, { replicas: WORKERS, concurrencyPerReplica: 128 });

    if (runs.has('warm')) {
      const rows = await warmPath({
        edge: stack.edge,
        engine,
        deployment,
        concurrencies: settings.BENCH_CONCURRENCY,
        seconds: settings.BENCH_SECONDS,
        stackPid: stack.pid,
      });
      report.warmPath = { secondsPerRun: settings.BENCH_SECONDS, workers: WORKERS, rows };
      console.log(
        `\nWarm path (edge in ${stack.runtime}): non-streaming chat completion, engine answers at once`,
      );
      console.table(
        rows.map((row) => ({
          concurrency: row.concurrency,
          'direct req/s': row.direct.requestsPerSecond,
          'direct p50 ms': row.direct.p50Ms,
          'platform req/s': row.platform.requestsPerSecond,
          'platform p50 ms': row.platform.p50Ms,
          'platform p99 ms': row.platform.p99Ms,
          'added p50 ms': row.addedP50Ms,
          'added p99 ms': row.addedP99Ms,
          failures: row.platform.failures + row.direct.failures,
        })),
      );
      console.log('CPU ms per request, by part of the stack (user + system; the load tool and engine apart)');
      console.table(rows.map((row) => ({ concurrency: row.concurrency, ...row.cpuMsPerRequest })));
    }

    if (runs.has('streaming')) {
      const rows = await streaming({
        edge: stack.edge,
        engine,
        deployment,
        waves: settings.BENCH_STREAMS,
        deltas: STREAM_DELTAS,
        intervalMs: STREAM_INTERVAL_MS,
      });
      report.streaming = { deltas: STREAM_DELTAS, intervalMs: STREAM_INTERVAL_MS, rows };
      console.log(
        `\nStreaming: ${STREAM_DELTAS} deltas ${STREAM_INTERVAL_MS} ms apart per stream, all streams opened at once`,
      );
      console.table(
        rows.map((row) => ({
          streams: row.streams,
          'direct TTFT p50 ms': row.direct.ttftP50Ms,
          'platform TTFT p50 ms': row.platform.ttftP50Ms,
          'platform TTFT p99 ms': row.platform.ttftP99Ms,
          'added TTFT p50 ms': row.addedTtftP50Ms,
          'direct gap p99 ms': row.direct.interFrameP99Ms,
          'platform gap p99 ms': row.platform.interFrameP99Ms,
          'frames dropped': row.platform.framesDropped,
          'failed streams': row.platform.failures,
        })),
      );
    }

    if (runs.has('cold')) {
      // Its own deployment, scaled to zero between samples; one replica at most.
      const cold = await deploy(stack, token, { replicas: 1, minReplicas: 0, concurrencyPerReplica: 8 });
      const result = await coldStart({
        stack,
        compute: stack.compute,
        token,
        deployment: cold,
        samples: settings.BENCH_COLD_SAMPLES,
      });
      report.coldStart = result;
      console.log('\nCold start: streamed request on a deployment scaled to zero, local provider');
      console.table(
        result.samples.map((sample) => ({
          'request → provider start call ms': sample.controlPlaneMs,
          'start call → first token ms': sample.workerMs,
          'total ms': sample.totalMs,
        })),
      );
    }

    if (runs.has('queue')) {
      const result = await queueBurst({
        edge: stack.edge,
        engine,
        deployment,
        workers: WORKERS,
        jobs: settings.BENCH_QUEUE_JOBS,
        connections: 256,
      });
      report.queue = result;
      console.log(`\nQueue: a burst of ${result.jobs} jobs, 256 in flight, over ${WORKERS} warm workers`);
      console.table([result]);
    }

    if (runs.has('metering')) {
      const result = await metering(stack, token, { events: settings.BENCH_USAGE_EVENTS, writers: 8 });
      report.metering = result;
      console.log(
        `\nMetering: ${result.events} usage events into the ledger, each delivered twice in shuffled order`,
      );
      console.table([result]);
    }
  } finally {
    await stack.stop();
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
