import { afterAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../tests/harness/context.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { newId } from '../../core/ids.ts';
import { createJobQueue } from '../queue/index.ts';
import { awaitJob } from './relay.ts';

const database = testDatabase();
const { ctx } = testContext(database.db, { now: () => new Date() });
const queue = createJobQueue(ctx.redis);
afterAll(() => database.close());

describe('waiting for a job', () => {
  it('answers with a result that landed just as the deadline passed, instead of a timeout for a billed answer', async () => {
    const endpointId = newId('endpoint');
    const jobId = newId('job');
    const now = Date.now();
    await queue.enqueue({
      jobId,
      orgId: newId('org'),
      endpointId,
      kind: 'chat.completion',
      input: { messages: [{ role: 'user', content: 'hi' }] },
      nowMs: now,
      deadlineMs: now + 60_000,
      pricePerHourMicroUsd: 1_010_000,
    });
    const { jobs } = await queue.take(endpointId, 'rep_late', 1, 30_000, now);
    const worker = { replicaId: 'rep_late', attempt: jobs[0]?.attempt ?? 1 };
    await queue.complete(jobId, endpointId, worker, { text: 'just in time' }, 900, now + 900);
    // The relay reaches its deadline with the answer already in (its last read ended before it landed).
    const outcome = await awaitJob(
      ctx,
      { id: jobId, endpointId, deadlineMs: Date.now() - 1, timeoutSeconds: 60 },
      {},
      new AbortController().signal,
    );
    expect(outcome).toMatchObject({ result: { text: 'just in time' }, gpuMs: 900 });
  });
});
