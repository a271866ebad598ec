import { describe, expect, it } from 'vitest';
import { env } from '../../../tests/harness/edge.ts';
import { startLossyProxy } from '../../../tests/harness/lossy-proxy.ts';
import { newId } from '../../core/ids.ts';
import { readMetrics } from '../metrics.ts';
import { createRedis } from '../redis.ts';
import { createJobQueue, MAX_HANDBACKS, MAX_LOST_LEASES } from './index.ts';

const redis = createRedis({
  url: env.UPSTASH_REDIS_REST_URL ?? '',
  token: env.UPSTASH_REDIS_REST_TOKEN ?? '',
});
const queue = createJobQueue(redis);

/** One job's batch through the worker's relay call (`appendMany`); its answer for that job. */
const appendOne = async (
  jobId: string,
  endpointId: string,
  worker: { replicaId: string; attempt: number },
  seq: number,
  chunks: unknown[],
  leaseUntilMs: number,
  nowMs: number,
) =>
  (
    await queue.appendMany(
      endpointId,
      worker.replicaId,
      [{ jobId, attempt: worker.attempt, seq, chunks }],
      leaseUntilMs,
      nowMs,
    )
  )[0];

const fresh = () => ({ endpointId: newId('endpoint'), orgId: newId('org') });
const job = (
  endpointId: string,
  orgId: string,
  now: number,
  extra: { idempotencyKey?: string; deadlineMs?: number } = {},
) => ({
  jobId: newId('job'),
  orgId,
  endpointId,
  kind: 'chat.completion' as const,
  input: { messages: [{ role: 'user', content: 'hi' }] },
  nowMs: now,
  deadlineMs: extra.deadlineMs ?? now + 60_000,
  idempotencyKey: extra.idempotencyKey,
  pricePerHourMicroUsd: 1_010_000,
});

describe('request queue in Redis', () => {
  it('takes the same enqueue again (the client retried a lost reply) as the job it already queued, not a second one', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const request = job(endpointId, orgId, now);
    await queue.enqueue(request);
    const { jobs } = await queue.take(endpointId, 'rep_first', 1, 30_000, now);
    expect(jobs).toHaveLength(1);
    // Run again while a worker holds it: nothing is reset, nothing queued twice.
    const again = await queue.enqueue(request);
    expect(again).toMatchObject({ jobId: request.jobId, duplicate: true });
    expect(await queue.state(request.jobId)).toBe('running');
    expect((await queue.take(endpointId, 'rep_second', 5, 30_000, now + 10)).jobs).toEqual([]);
  });

  it('leases jobs in order, relays output and completes once', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const first = job(endpointId, orgId, now);
    const second = job(endpointId, orgId, now);
    expect((await queue.enqueue(first)).workerPolling).toBe(false);
    await queue.enqueue(second);
    expect(await queue.depth(endpointId)).toEqual({ queued: 2, running: 0 });

    const { jobs: leased } = await queue.take(endpointId, 'rep_a', 1, 30_000, now);
    // The take marked the replica busy and the endpoint as polled (what scaling and nudges read).
    expect(await queue.replicaMarks(endpointId)).toEqual({ busy: { rep_a: now }, seen: { rep_a: now } });
    // An empty poll is a sign of life, not of work.
    await queue.take(endpointId, 'rep_b', 0, 30_000, now + 5);
    expect(await queue.replicaMarks(endpointId)).toEqual({
      busy: { rep_a: now },
      seen: { rep_a: now, rep_b: now + 5 },
    });
    const third = job(endpointId, orgId, now);
    expect((await queue.enqueue(third)).workerPolling).toBe(true);
    // Jobs are waiting, so an idle worker is woken at once.
    expect(await queue.waitForWork(endpointId, 1_000)).toBe(true);
    expect(leased).toEqual([
      {
        id: first.jobId,
        kind: 'chat.completion',
        input: first.input,
        deadlineMs: first.deadlineMs,
        attempt: 1,
      },
    ]);
    expect(await queue.depth(endpointId)).toEqual({ queued: 2, running: 1 });

    const a = { replicaId: 'rep_a', attempt: 1 };
    const hello = [{ delta: 'Hel' }, { delta: 'lo' }];
    expect(await appendOne(first.jobId, endpointId, a, 1, hello, now + 30_000, now)).toBe(true);
    // The same batch again (its reply was lost): accepted, not appended twice.
    expect(await appendOne(first.jobId, endpointId, a, 1, hello, now + 30_000, now)).toBe(true);
    const other = { replicaId: 'rep_other', attempt: 1 };
    expect(await appendOne(first.jobId, endpointId, other, 2, [{ delta: 'x' }], now + 30_000, now)).toBe(
      false,
    );
    const staleAttempt = { replicaId: 'rep_a', attempt: 2 };
    expect(
      await appendOne(first.jobId, endpointId, staleAttempt, 2, [{ delta: 'x' }], now + 30_000, now),
    ).toBe(false);
    // 1.5 s after the take: a worker's GPU time counts up to the time since its lease began.
    const finished = await queue.complete(first.jobId, endpointId, a, { text: 'Hello' }, 1500, now + 1_500);
    // The finish answers with what recording the job's end needs, as it stands after the finish.
    expect(finished.done).toBe(true);
    expect(finished.book).toMatchObject({
      state: 'succeeded',
      replicaId: 'rep_a',
      attempt: 1,
      pricePerHourMicroUsd: 1_010_000,
      createdMs: now,
      isAsync: false,
      outcome: { text: 'Hello' },
    });
    expect(await queue.bookkeeping(first.jobId)).toEqual(finished.book);
    const again = await queue.complete(first.jobId, endpointId, a, { text: 'again' }, 1500, now + 1_500);
    expect(again.done).toBe(false);
    expect(again.book.outcome).toEqual({ text: 'Hello' });

    const { events } = await queue.read(first.jobId, '0', 100);
    expect(events).toEqual([
      { type: 'chunk', data: { delta: 'Hel' } },
      { type: 'chunk', data: { delta: 'lo' } },
      { type: 'result', data: { text: 'Hello' }, gpuMs: 1500, pricePerHourMicroUsd: 1_010_000 },
    ]);
    expect(await queue.state(first.jobId)).toBe('succeeded');
  });

  it('wakes one idle worker per waiting job, not every idle worker', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    expect((await queue.take(endpointId, 'rep_a', 4, 30_000, now)).jobs).toEqual([]);
    const idle = [queue.waitForWork(endpointId, 1_500), queue.waitForWork(endpointId, 1_500)];
    await new Promise((resolve) => setTimeout(resolve, 100));
    await queue.enqueue(job(endpointId, orgId, now));
    // One worker wakes for the one job; the other sleeps on until its wait ends.
    expect((await Promise.all(idle)).sort()).toEqual([false, true]);

    // A take that leaves nothing waiting leaves no token behind: no worker wakes for a job already taken.
    await queue.enqueue(job(endpointId, orgId, now));
    await queue.enqueue(job(endpointId, orgId, now));
    expect((await queue.take(endpointId, 'rep_b', 4, 30_000, now)).jobs).toHaveLength(3);
    expect(await queue.waitForWork(endpointId, 200)).toBe(false);

    // A take that leaves jobs waiting leaves one token for each, for the other idle workers.
    for (let i = 0; i < 3; i++) await queue.enqueue(job(endpointId, orgId, now));
    expect((await queue.take(endpointId, 'rep_b', 1, 30_000, now)).jobs).toHaveLength(1);
    const woken = await Promise.all([1, 2, 3].map(() => queue.waitForWork(endpointId, 300)));
    expect(woken.sort()).toEqual([false, true, true]);
  });

  it('returns the first job for a retried enqueue with the same idempotency key', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const original = await queue.enqueue(job(endpointId, orgId, now, { idempotencyKey: 'retry-1' }));
    const retried = await queue.enqueue(job(endpointId, orgId, now, { idempotencyKey: 'retry-1' }));
    expect(original.waiting).toBe(1);
    // Still waiting: the retry learns what a scale-up nudge needs (the first try may never have sent one).
    expect(retried).toEqual({
      jobId: original.jobId,
      duplicate: true,
      waiting: 1,
      workerPolling: false,
      replicasGone: 0,
    });
    expect((await queue.depth(endpointId)).queued).toBe(1);
    // Taken by a worker: a retry has nothing to nudge for.
    await queue.take(endpointId, 'rep_worker', 1, 30_000, now + 1);
    expect(await queue.enqueue(job(endpointId, orgId, now, { idempotencyKey: 'retry-1' }))).toMatchObject({
      jobId: original.jobId,
      duplicate: true,
      waiting: 0,
    });
    const different = {
      ...job(endpointId, orgId, now, { idempotencyKey: 'retry-1' }),
      input: { messages: [] },
    };
    await expect(queue.enqueue(different)).rejects.toMatchObject({
      code: 'conflict',
      param: 'idempotency-key',
    });
    expect((await queue.depth(endpointId)).running).toBe(1);
  });

  it('re-queues a job whose worker stopped renewing its lease, at the front, for another replica', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const lost = job(endpointId, orgId, now);
    const waiting = job(endpointId, orgId, now);
    await queue.enqueue(lost);
    await queue.take(endpointId, 'rep_dead', 1, 1_000, now);
    await queue.enqueue(waiting);
    const later = now + 5_000;
    const { jobs: retaken } = await queue.take(endpointId, 'rep_alive', 1, 30_000, later);
    expect(retaken.map((j) => [j.id, j.attempt])).toEqual([[lost.jobId, 2]]);
    const dead = { replicaId: 'rep_dead', attempt: 1 };
    expect(await appendOne(lost.jobId, endpointId, dead, 1, [{ delta: 'late' }], later + 30_000, later)).toBe(
      false,
    );
    const { events } = await queue.read(lost.jobId, '0', 100);
    expect(events).toEqual([{ type: 'requeued' }]);
  });

  it('lets only the lease holder hand a job back, and gives it to the next taker at once', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const work = job(endpointId, orgId, now);
    await queue.enqueue(work);
    await queue.take(endpointId, 'rep_a', 1, 30_000, now);
    expect(await queue.release(work.jobId, endpointId, { replicaId: 'rep_b', attempt: 1 })).toBe(false);
    expect(await queue.release(work.jobId, endpointId, { replicaId: 'rep_a', attempt: 2 })).toBe(false);
    expect(await queue.release(work.jobId, endpointId, { replicaId: 'rep_a', attempt: 1 })).toBe(true);
    const {
      jobs: [retaken],
    } = await queue.take(endpointId, 'rep_b', 1, 30_000, now + 1);
    expect(retaken).toMatchObject({ id: work.jobId, attempt: 2 });
    expect((await queue.read(work.jobId, '0', 100)).events).toEqual([{ type: 'requeued' }]);
  });

  it('refuses what a handed-back attempt still sends, so it cannot renew the lease it gave up', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const work = job(endpointId, orgId, now);
    await queue.enqueue(work);
    await queue.take(endpointId, 'rep_a', 1, 30_000, now);
    const draining = { replicaId: 'rep_a', attempt: 1 };
    expect(await queue.release(work.jobId, endpointId, draining)).toBe(true);
    // The engine was still streaming when the worker handed the job back: its next batch lands now.
    expect(await appendOne(work.jobId, endpointId, draining, 1, [{ delta: 'late' }], now + 30_000, now)).toBe(
      false,
    );
    expect(await queue.depth(endpointId)).toEqual({ queued: 1, running: 0 });
    const {
      jobs: [retaken],
    } = await queue.take(endpointId, 'rep_b', 1, 30_000, now + 1);
    expect(retaken).toMatchObject({ id: work.jobId, attempt: 2 });
  });

  it(`fails a job whose workers vanished under it ${MAX_LOST_LEASES} times, instead of running it again`, async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const poison = job(endpointId, orgId, now, { deadlineMs: now + 3_600_000 });
    await queue.enqueue(poison);
    let at = now;
    // Each worker takes it and dies without a word (its lease lapses); a hand-back would not count.
    for (let lost = 1; lost < MAX_LOST_LEASES; lost++) {
      expect((await queue.take(endpointId, `rep_${lost}`, 1, 1_000, at)).jobs).toHaveLength(1);
      at += 2_000;
    }
    await queue.take(endpointId, 'rep_last', 1, 1_000, at);
    // The poll that fails it says so, for the edge to record an async job's end at once.
    expect(await queue.take(endpointId, 'rep_next', 1, 1_000, at + 2_000)).toEqual({
      jobs: [],
      stopped: false,
      ended: [poison.jobId],
    });
    expect(await queue.state(poison.jobId)).toBe('failed');
    const { events } = await queue.read(poison.jobId, '0', 100);
    expect(events.at(-1)).toEqual({
      type: 'error',
      data: {
        message: `The worker running this request was lost ${MAX_LOST_LEASES} times (it may crash the model server); it is not retried again.`,
        type: 'engine_error',
      },
    });
    expect(await queue.depth(endpointId)).toEqual({ queued: 0, running: 0 });
  });

  it('leases nothing to a worker whose tombstone key exists', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const work = job(endpointId, orgId, now);
    await queue.enqueue(work);
    const tombstone = `worker:released:${newId('replica')}`;
    await redis.set(tombstone, 1, { ex: 60 });
    expect(await queue.take(endpointId, 'rep_gone', 5, 30_000, now, tombstone)).toEqual({
      jobs: [],
      stopped: true,
      ended: [],
    });
    expect(await queue.depth(endpointId)).toEqual({ queued: 1, running: 0 });
  });

  it('counts a replica as polling until it is released, so the next request after that wakes the orchestrator', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    await queue.take(endpointId, 'rep_a', 1, 30_000, now);
    await queue.take(endpointId, 'rep_b', 1, 30_000, now);
    expect(await queue.enqueue(job(endpointId, orgId, now + 1))).toMatchObject({
      workerPolling: true,
      replicasGone: 0,
    });
    await queue.forgetReplica(endpointId, 'rep_a');
    expect(await queue.enqueue(job(endpointId, orgId, now + 2))).toMatchObject({
      workerPolling: true,
      replicasGone: 1,
    });
    await queue.forgetReplica(endpointId, 'rep_b');
    // Each replica that left is counted, so the wake-up this enqueue sends is a new message.
    expect(await queue.enqueue(job(endpointId, orgId, now + 3))).toMatchObject({
      workerPolling: false,
      replicasGone: 2,
    });
    // A replica that stopped polling without being released counts for 30 s.
    await queue.take(endpointId, 'rep_c', 1, 30_000, now);
    expect((await queue.enqueue(job(endpointId, orgId, now + 29_000))).workerPolling).toBe(true);
    expect((await queue.enqueue(job(endpointId, orgId, now + 31_000))).workerPolling).toBe(false);
  });

  it('hands back the leases a stopping worker never received, and keeps the ones it holds', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const held = job(endpointId, orgId, now);
    const unseen = job(endpointId, orgId, now);
    const others = job(endpointId, orgId, now);
    await queue.enqueue(held);
    await queue.enqueue(unseen);
    await queue.take(endpointId, 'rep_stopping', 2, 60_000, now);
    await queue.enqueue(others);
    await queue.take(endpointId, 'rep_other', 1, 60_000, now);
    expect(await queue.releaseUnclaimed(endpointId, 'rep_stopping', [held.jobId], now)).toEqual({
      released: 1,
      ended: [],
    });
    const {
      jobs: [retaken],
    } = await queue.take(endpointId, 'rep_new', 5, 60_000, now + 1);
    expect(retaken).toMatchObject({ id: unseen.jobId, attempt: 2 });
    expect(await queue.state(held.jobId)).toBe('running');
    expect(await queue.state(others.jobId)).toBe('running');
    expect((await queue.releaseUnclaimed(endpointId, 'rep_stopping', [held.jobId], now)).released).toBe(0);
  });

  it('answers a take run again after its reply was lost with the same jobs, leasing no more', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const first = job(endpointId, orgId, now);
    const second = job(endpointId, orgId, now + 1);
    await queue.enqueue(first);
    await queue.enqueue(second);
    // Only this take goes through the proxy: the client's own retry (its connection dropped after
    // Redis ran the script) runs it twice.
    let lost = 0;
    const lossy = await startLossyProxy(env.UPSTASH_REDIS_REST_URL ?? '', ({ body, status }) => {
      if (lost > 0 || status !== 200 || !body.includes(endpointId)) return false;
      lost++;
      return true;
    });
    try {
      const retried = createJobQueue(
        createRedis({ url: lossy.url, token: env.UPSTASH_REDIS_REST_TOKEN ?? '' }),
      );
      const { jobs } = await retried.take(endpointId, 'rep_retried', 1, 60_000, now + 2);
      expect(lost).toBe(1);
      expect(jobs.map((leased) => leased.id)).toEqual([first.jobId]);
      expect(await queue.depth(endpointId)).toEqual({ queued: 1, running: 1 });
      // A new take is a new take.
      const next = await queue.take(endpointId, 'rep_retried', 1, 60_000, now + 3);
      expect(next.jobs.map((leased) => leased.id)).toEqual([second.jobId]);
    } finally {
      await lossy.close();
    }
  });

  it('re-queues unreceived jobs at once, never counting them as lost leases', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const unseen = job(endpointId, orgId, now);
    await queue.enqueue(unseen);
    // A take reply lost again and again: the job never reached a worker, so it never fails for it.
    for (let attempt = 1; attempt <= MAX_LOST_LEASES + 1; attempt++) {
      const { jobs } = await queue.take(endpointId, 'rep_unlucky', 1, 60_000, now + attempt);
      expect(jobs).toMatchObject([{ id: unseen.jobId, attempt }]);
      expect((await queue.releaseUnclaimed(endpointId, 'rep_unlucky', [], now)).released).toBe(1);
      expect(await queue.depth(endpointId)).toEqual({ queued: 1, running: 0 });
    }
    const {
      jobs: [taken],
    } = await queue.take(endpointId, 'rep_lucky', 1, 60_000, now + 10);
    expect(taken).toMatchObject({ id: unseen.jobId, attempt: MAX_LOST_LEASES + 2 });
    expect(await queue.state(unseen.jobId)).toBe('running');
  });

  it('fails a job handed back unreceived too often, with an error its caller reads', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const undeliverable = job(endpointId, orgId, now);
    await queue.enqueue(undeliverable);
    for (let attempt = 1; attempt < MAX_HANDBACKS; attempt++) {
      await queue.take(endpointId, 'rep_unlucky', 1, 60_000, now + attempt);
      expect(await queue.releaseUnclaimed(endpointId, 'rep_unlucky', [], now + attempt)).toEqual({
        released: 1,
        ended: [],
      });
    }
    await queue.take(endpointId, 'rep_unlucky', 1, 60_000, now + MAX_HANDBACKS);
    expect(await queue.releaseUnclaimed(endpointId, 'rep_unlucky', [], now + MAX_HANDBACKS)).toEqual({
      released: 0,
      ended: [undeliverable.jobId],
    });
    expect(await queue.state(undeliverable.jobId)).toBe('failed');
    expect(await queue.depth(endpointId)).toEqual({ queued: 0, running: 0 });
    const { events } = await queue.read(undeliverable.jobId, '0', 100);
    expect(events.at(-1)).toMatchObject({
      type: 'error',
      data: { message: expect.stringContaining(`after ${MAX_HANDBACKS} tries`), type: 'engine_error' },
    });
    expect((await queue.take(endpointId, 'rep_lucky', 1, 60_000, now + 10)).jobs).toEqual([]);
  });

  it('re-queues a released replica’s jobs at once, and only its own', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const mine = job(endpointId, orgId, now);
    const theirs = job(endpointId, orgId, now);
    await queue.enqueue(mine);
    await queue.take(endpointId, 'rep_released', 1, 30_000, now);
    await queue.enqueue(theirs);
    await queue.take(endpointId, 'rep_kept', 1, 30_000, now);
    await queue.forgetReplica(endpointId, 'rep_released');
    const {
      jobs: [retaken],
    } = await queue.take(endpointId, 'rep_new', 5, 30_000, now + 1);
    expect(retaken).toMatchObject({ id: mine.jobId, attempt: 2 });
    expect(await queue.state(theirs.jobId)).toBe('running');
    expect((await queue.depth(endpointId)).running).toBe(2);
  });

  it('cancels queued and running jobs, and times out jobs past their deadline instead of leasing them', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const running = job(endpointId, orgId, now);
    await queue.enqueue(running);
    await queue.take(endpointId, 'rep_a', 1, 30_000, now);
    expect((await queue.stop(running.jobId, endpointId, 'cancelled', now)).done).toBe(true);
    const a = { replicaId: 'rep_a', attempt: 1 };
    expect(await appendOne(running.jobId, endpointId, a, 1, [{ delta: 'x' }], now + 30_000, now)).toBe(false);
    expect((await queue.stop(running.jobId, endpointId, 'cancelled', now)).done).toBe(false);

    const expired = job(endpointId, orgId, now, { deadlineMs: now + 1_000 });
    await queue.enqueue(expired);
    expect((await queue.take(endpointId, 'rep_a', 5, 30_000, now + 2_000)).jobs).toEqual([]);
    expect(await queue.state(expired.jobId)).toBe('timed_out');
    expect((await queue.read(expired.jobId, '0', 100)).events).toEqual([{ type: 'timed_out' }]);

    // A cancelled queued job leaves the queue at once: depth, which scaling reads, stays true.
    const waiting = job(endpointId, orgId, now);
    await queue.enqueue(waiting);
    expect(await queue.depth(endpointId)).toEqual({ queued: 1, running: 0 });
    expect((await queue.stop(waiting.jobId, endpointId, 'cancelled', now)).done).toBe(true);
    expect(await queue.depth(endpointId)).toEqual({ queued: 0, running: 0 });
  });

  it('counts each ended job once in its endpoint’s metrics, however often its end is reported', async () => {
    const { endpointId, orgId } = fresh();
    const now = Date.now();
    const a = { replicaId: 'rep_a', attempt: 1 };
    const succeeded = job(endpointId, orgId, now);
    const failed = job(endpointId, orgId, now);
    const cancelled = job(endpointId, orgId, now);
    const late = job(endpointId, orgId, now, { deadlineMs: now + 1_000 });
    for (const queued of [succeeded, failed, cancelled, late]) await queue.enqueue(queued);
    await queue.take(endpointId, 'rep_a', 2, 30_000, now);
    // The completion is reported twice (its reply was lost), the failure once.
    await queue.complete(succeeded.jobId, endpointId, a, { text: 'ok' }, 1_200, now + 1_200);
    await queue.complete(succeeded.jobId, endpointId, a, { text: 'ok' }, 1_200, now + 1_200);
    await queue.fail(failed.jobId, endpointId, a, { message: 'engine failure' }, 300, now + 1_300);
    // Cancelled by its caller: not a request the deployment served or failed.
    await queue.stop(cancelled.jobId, endpointId, 'cancelled', now + 1_400);
    // Still queued at its deadline: the next take times it out, a failure that used no GPU.
    expect((await queue.take(endpointId, 'rep_a', 5, 30_000, now + 2_000)).jobs).toEqual([]);

    const metrics = await readMetrics(redis, endpointId, 5, now + 2_000);
    expect(metrics).toMatchObject({ requests: 3, failures: 2, gpu_seconds: 1.5 });
    expect(metrics.latency_ms).toEqual({ p50: 1_300, p90: 2_000, p99: 2_000 });
  });
});
