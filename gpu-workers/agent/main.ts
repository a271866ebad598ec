/**
 * The worker agent: one per replica. Long-polls the edge for its endpoint's jobs, runs up to
 * CONCURRENCY of them on the engine, relays output, and on SIGTERM stops taking work and drains.
 */
import { createDevEngine } from '../engines/dev/index.ts';
import type { WorkerJob } from '../engines/engine.ts';
import { createOpenAICompatibleEngine } from '../engines/openai-compatible/index.ts';
import { createWorkerClient, ReplicaGoneError } from './client.ts';
import { parseAgentConfig } from './config.ts';
import { errorMessage } from './error-message.ts';
import { runJob } from './run-job.ts';

const config = parseAgentConfig(process.env);
const shipped: { at: string; line: string }[] = [];
const log = (line: string) => {
  const at = new Date().toISOString();
  console.log(`${at} ${line}`);
  // Best effort: under a log storm the newest lines are dropped once 500 wait, never the job.
  if (shipped.length < 500) shipped.push({ at, line });
};
const engine = config.ENGINE_URL
  ? createOpenAICompatibleEngine({
      baseUrl: config.ENGINE_URL,
      servedModel: config.ENGINE_MODEL ?? config.MODEL,
    })
  : createDevEngine({ tokenDelayMs: config.DEV_TOKEN_DELAY_MS });
const client = createWorkerClient(config.CONTROL_PLANE_URL, config.WORKER_TOKEN);
const shipLogs = async (tries?: number) => {
  if (shipped.length === 0) return;
  await client.logs(shipped.splice(0), tries).catch(() => {});
};
const logShipper = setInterval(() => void shipLogs(), 1_000);
/** Jobs in progress, by the promise that settles when each ends. */
const running = new Map<Promise<void>, WorkerJob>();
const stopTaking = new AbortController();

process.on('SIGTERM', () => {
  log('SIGTERM: taking no new jobs, draining');
  stopTaking.abort();
});
process.on('SIGINT', () => stopTaking.abort());
const stopRequested = new Promise<void>((resolve) =>
  stopTaking.signal.addEventListener('abort', () => resolve(), { once: true }),
);

let failures = 0;
let handBackOwed = false;

/**
 * A take that failed or was abandoned may have leased this worker jobs whose reply it never read:
 * they go back to the queue now, for this worker or another to take, rather than when their lease
 * lapses. Answers whether that was done; if the edge stays unreachable, the lease lapse re-queues them.
 */
const handBackUnclaimed = (tries?: number) =>
  client
    .releaseUnclaimed(
      [...running.values()].map((job) => job.id),
      tries,
    )
    .then(
      (released) => {
        if (released > 0) log(`${released} jobs leased by a take whose reply never arrived handed back`);
        return true;
      },
      (error: unknown) => {
        log(`unclaimed jobs not handed back: ${errorMessage(error)}`);
        return false;
      },
    );

async function main() {
  await engine.ready(stopTaking.signal);
  log(
    `replica ${config.REPLICA_ID} ready: engine ${engine.name}, model ${config.MODEL || '-'}, concurrency ${config.CONCURRENCY}`,
  );
  while (!stopTaking.signal.aborted) {
    if (running.size >= config.CONCURRENCY) {
      // A SIGTERM ends the wait too: the drain (and its timeout) must start then, not when a job ends.
      await Promise.race([...running.keys(), stopRequested]);
      continue;
    }
    // Owed after a failed take, before the next one: asked once per round, so an edge that is down
    // delays the next take by one refused call, not by a chain of retries.
    if (handBackOwed) handBackOwed = !(await handBackUnclaimed(1));
    let taken: Awaited<ReturnType<typeof client.take>>;
    try {
      taken = await client.take(config.CONCURRENCY - running.size, 20_000, stopTaking.signal);
      failures = 0;
    } catch (error) {
      if (stopTaking.signal.aborted) {
        // The take was abandoned: it may have leased jobs whose reply this worker never read.
        handBackOwed = true;
        break;
      }
      if (error instanceof ReplicaGoneError) {
        log(`${error.message}: draining and exiting`);
        stopTaking.abort();
        break;
      }
      // The edge is unreachable or failing: keep the running jobs going and try again, backing off.
      failures += 1;
      log(`take failed (${errorMessage(error)}); retrying`);
      handBackOwed = true;
      // A SIGTERM ends the wait: the drain must start then (ECS kills the task 30 s after it).
      const backoff = new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 250 * 2 ** failures)));
      await Promise.race([backoff, stopRequested]);
      continue;
    }
    for (const job of taken.jobs) {
      const task = runJob(job, engine, client, taken.leaseMs, log).finally(() => running.delete(task));
      running.set(task, job);
    }
  }
  // Tried once when the edge was failing already: a stop is not held up by retries into an outage.
  const lastTries = failures > 0 ? 1 : undefined;
  if (handBackOwed) await handBackUnclaimed(lastTries);
  const drained = Promise.all(running.keys()).then(() => true);
  const timedOut = new Promise<boolean>((resolve) =>
    setTimeout(() => resolve(false), config.DRAIN_TIMEOUT_MS).unref(),
  );
  if (await Promise.race([drained, timedOut])) {
    log('drained');
  } else {
    // What could not finish goes back to the queue now, for another replica to start at once.
    const unfinished = [...running.values()];
    log(`drain timed out with ${unfinished.length} jobs running: handing them back`);
    await Promise.all(
      unfinished.map((job) =>
        client.release(job).then(
          () => log(`job ${job.id} handed back`),
          (error: unknown) => log(`job ${job.id} not handed back: ${errorMessage(error)}`),
        ),
      ),
    );
  }
  clearInterval(logShipper);
  await shipLogs(lastTries);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`fatal: ${errorMessage(error)}`);
    process.exit(1);
  },
);
