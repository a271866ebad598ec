import { afterAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../tests/harness/context.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { env } from '../../../tests/harness/edge.ts';
import { startLossyProxy } from '../../../tests/harness/lossy-proxy.ts';
import { apiKeySubject } from '../../core/billing/caps.ts';
import { costMicroUsd } from '../../core/billing/cost.ts';
import { newId } from '../../core/ids.ts';
import { spendOf } from '../billing/spend.ts';
import { createJobQueue } from '../queue/index.ts';
import { createRedis } from '../redis.ts';
import { stopJob } from './stop.ts';

const database = testDatabase();
afterAll(() => database.close());
const queue = createJobQueue(
  createRedis({ url: env.UPSTASH_REDIS_REST_URL ?? '', token: env.UPSTASH_REDIS_REST_TOKEN ?? '' }),
);

describe('stopping a job', () => {
  it("counts the running time in its key's spend once, also when the stop's reply was lost", async () => {
    const endpointId = newId('endpoint');
    const apiKeyId = newId('apiKey');
    const jobId = newId('job');
    const started = Date.now();
    await queue.enqueue({
      jobId,
      orgId: newId('org'),
      endpointId,
      apiKeyId,
      kind: 'chat.completion',
      input: { messages: [{ role: 'user', content: 'hi' }] },
      nowMs: started,
      deadlineMs: started + 60_000,
      pricePerHourMicroUsd: 1_010_000,
      async: false,
    });
    await queue.take(endpointId, 'rep_running', 1, 60_000, started);
    await new Promise((resolve) => setTimeout(resolve, 300));

    // The stop runs in Redis, its reply is lost, and the client runs it again: the re-run finds the
    // job already cancelled.
    let lost = 0;
    const lossy = await startLossyProxy(env.UPSTASH_REDIS_REST_URL ?? '', ({ body, status }) => {
      if (lost > 0 || status !== 200 || !body.includes(jobId)) return false;
      lost++;
      return true;
    });
    try {
      const { ctx } = testContext(database.db, { now: () => new Date() });
      ctx.redis = createRedis({ url: lossy.url, token: env.UPSTASH_REDIS_REST_TOKEN ?? '' });
      await stopJob(ctx, { id: jobId, endpointId }, 'cancelled');
      expect(lost).toBe(1);
      expect(await queue.state(jobId)).toBe('cancelled');
      const book = await queue.bookkeeping(jobId);
      const cost = costMicroUsd(book.gpuMs / 1000, book.pricePerHourMicroUsd);
      expect(cost).toBeGreaterThan(0);
      const spent = async () =>
        (await spendOf(database.db, [apiKeySubject(apiKeyId)], new Date())).get(apiKeySubject(apiKeyId))
          ?.total;
      expect(await spent()).toBe(cost);
      // A later stop of the same job (a second cancel) adds nothing.
      await stopJob(ctx, { id: jobId, endpointId }, 'cancelled');
      expect(await spent()).toBe(cost);
    } finally {
      await lossy.close();
    }
  });
});
