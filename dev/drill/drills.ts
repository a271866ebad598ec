import { addFunds, signUp } from '../bench/account.ts';
import { startMockEngine } from '../bench/mock-engine.ts';
import { startStack } from '../bench/stacks.ts';
import { freePort } from '../ports.ts';
import { selectRedisBackend } from '../redis-rest/select.ts';
import { edgeRestart } from './edge-restart.ts';
import { killWorkers } from './kill-workers.ts';
import { orchestratorDupes } from './orchestrator-dupes.ts';
import { redisDrop } from './redis-drop.ts';
import { startReplyDroppingProxy } from './reply-dropping-proxy.ts';
import { stripeReplay } from './stripe-replay.ts';
import { runDrill, type Verdict } from './verdict.ts';

/** How hard the drills push: the full set (`npm run drill`) or the short one `npm test` runs. */
export interface DrillSizes {
  payments: number[];
  killJobs: number;
  orchestratorMessages: number;
  orchestratorRequests: number;
  redisEnqueues: number;
  restartStreams: number;
}

export const FULL: DrillSizes = {
  payments: [10, 12, 15, 20, 25, 30],
  killJobs: 10_000,
  orchestratorMessages: 40,
  orchestratorRequests: 40,
  redisEnqueues: 2_000,
  restartStreams: 50,
};

export const SHORT: DrillSizes = {
  payments: [10, 15],
  killJobs: 300,
  orchestratorMessages: 10,
  orchestratorRequests: 12,
  redisEnqueues: 300,
  restartStreams: 8,
};

/**
 * Starts the local stack (edge in Node, workers on a mock engine, Redis behind a proxy that can drop
 * its replies), signs a customer up, and runs each drill against it in turn; `onVerdict` hears each
 * verdict as it is reached. Everything is stopped whatever happens.
 */
export async function runDrills(sizes: DrillSizes, onVerdict: (verdict: Verdict) => void = () => {}) {
  const redisPort = await freePort();
  const redis = await selectRedisBackend({ dataDir: null, port: redisPort, allowMemory: false });
  const proxy = await startReplyDroppingProxy({ host: '127.0.0.1', port: redisPort });
  const engine = await startMockEngine();
  const stack = await startStack('node', engine.url, { REDIS_URL: proxy.url });
  const verdicts: Verdict[] = [];
  const record = (verdict: Verdict) => {
    verdicts.push(verdict);
    onVerdict(verdict);
  };
  try {
    const token = await signUp(stack);
    // First, while no deployment runs: no usage moves the balance the Stripe drill checks.
    record(
      await runDrill('Stripe events delivered twice, shuffled', () =>
        stripeReplay(stack, token, sizes.payments),
      ),
    );
    await addFunds(stack, token, 500);
    record(
      await runDrill('orchestrator messages duplicated and delayed', () =>
        orchestratorDupes(stack, token, {
          maxReplicas: 2,
          messages: sizes.orchestratorMessages,
          requests: sizes.orchestratorRequests,
          maxDelaySeconds: 3,
        }),
      ),
    );
    record(
      await runDrill('one of 4 workers killed every 2 s', () =>
        killWorkers(stack, token, engine, {
          jobs: sizes.killJobs,
          workers: 4,
          everyMs: 2_000,
          connections: 64,
        }),
      ),
    );
    record(
      await runDrill('Redis replies dropped for 3 s', () =>
        redisDrop(stack, token, engine, proxy, {
          enqueues: sizes.redisEnqueues,
          connections: 64,
          dropMs: 3_000,
        }),
      ),
    );
    record(
      await runDrill('edge restarted during streaming', () =>
        edgeRestart(stack, token, engine, { streams: sizes.restartStreams, deltas: 64, intervalMs: 50 }),
      ),
    );
  } finally {
    await stack.stop();
    await engine.close();
    await proxy.close();
    await redis.backend.close();
    await redis.stop();
  }
  return verdicts;
}
