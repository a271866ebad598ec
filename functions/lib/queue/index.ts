import { ConflictError } from '../../core/errors.ts';
import { requestFingerprint } from '../../core/jobs/fingerprint.ts';
import type { JobKind } from '../../core/jobs/states.ts';
import { MAX_LATENCY_SAMPLES, METRICS_RETAIN_SECONDS, metricsKeysAt } from '../metrics.ts';
import { type Redis, withRawReplies } from '../redis.ts';
import {
  APPEND,
  BOOKKEEPING_FIELDS,
  ENQUEUE,
  EXPIRE_LEASES,
  FINISH,
  RELEASE,
  RELEASE_UNCLAIMED,
  TAKE,
  UNSETTLED_KEY,
} from './scripts.ts';

/** How long a job's hash and output stream outlive its end: long enough for a slow reader. */
const RETAIN_SECONDS = 3600;
/**
 * Leases a job may lose (its worker gone without a word) before it fails instead of running again: a
 * request that crashes its worker would otherwise take down replica after replica until its deadline.
 */
export const MAX_LOST_LEASES = 3;
/**
 * Times a job may be handed back unreceived (its take's reply lost) before it fails: a network blip
 * costs one, but a job whose delivery always fails would otherwise cycle until its deadline.
 */
export const MAX_HANDBACKS = 5;

const keys = {
  job: (id: string) => `job:${id}`,
  out: (id: string) => `job:${id}:out`,
  pending: (endpointId: string) => `q:${endpointId}:pending`,
  leases: (endpointId: string) => `q:${endpointId}:leases`,
  /** Wake-up tokens, one per waiting job: an idle worker BLPOPs one, then takes. */
  wake: (endpointId: string) => `q:${endpointId}:wake`,
  busy: (endpointId: string) => `q:${endpointId}:busy`,
  /** Replica id → GPU ms of the jobs it finished: its busy time, written to Postgres when metered. */
  busyTime: (endpointId: string) => `q:${endpointId}:busy_ms`,
  /** Replica id → when it last polled (ms). */
  polls: (endpointId: string) => `q:${endpointId}:polls`,
  /** How many replicas have left the endpoint (released or failed): new ones are nudged for afresh. */
  gone: (endpointId: string) => `q:${endpointId}:gone`,
  /** The replica's last take that leased jobs: its id and their ids, for a retried run of it. */
  lastTake: (endpointId: string, replicaId: string) => `q:${endpointId}:take:${replicaId}`,
  idempotency: (orgId: string, key: string) => `idem:${orgId}:${key}`,
};

/** The replica and attempt finishing its own job, and the replica's price (the job's, from then on). */
export interface FinishingWorker {
  replicaId: string;
  attempt: number;
  pricePerHourMicroUsd?: number | undefined;
}

export interface EnqueueRequest {
  jobId: string;
  orgId: string;
  endpointId: string;
  kind: JobKind;
  input: unknown;
  deadlineMs: number;
  nowMs: number;
  idempotencyKey?: string | undefined;
  /** Recorded in Postgres and followed by `GET /v1/jobs/{id}`: its end must be written there too. */
  async?: boolean;
  /** The endpoint's price per replica-hour, for the job's cost. */
  pricePerHourMicroUsd: number;
  /** The API key that sent it: its spend cap counts the job's GPU time. */
  apiKeyId?: string | null;
}

/** One job's output chunks in a worker's relay call. */
export interface OutputBatch {
  jobId: string;
  attempt: number;
  /** Counts this job's batches from 1: a resent batch (lost reply) is not appended again. */
  seq: number;
  chunks: unknown[];
}

export interface LeasedJob {
  id: string;
  kind: JobKind;
  input: unknown;
  deadlineMs: number;
  attempt: number;
}

/** What the waiting request reads from a job's output stream. */
export type JobEvent =
  | { type: 'chunk'; data: unknown }
  /**
   * `gpuMs`: the GPU time the worker reported; `pricePerHourMicroUsd`: the job's price, the finishing
   * replica's (null on events written before it was carried). Both on the event, so nobody reads them again.
   */
  | { type: 'result'; data: unknown; gpuMs: number; pricePerHourMicroUsd: number | null }
  | { type: 'error'; data: unknown }
  | { type: 'requeued' | 'cancelled' | 'timed_out' };

export type FinalState = 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

/** @upstash/redis parses JSON-looking strings on its own; accept either form. */
const parsed = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};

const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

type BookkeepingFields = Partial<Record<(typeof BOOKKEEPING_FIELDS)[number], unknown>>;

/** What the edge needs to record a job's end: whether it is async, its price, when it started… */
function toBookkeeping(fields: BookkeepingFields) {
  return {
    isAsync: String(fields.async) === '1',
    pricePerHourMicroUsd: Number(fields.price ?? 0),
    startedAt: fields.started ? new Date(Number(fields.started)) : undefined,
    createdMs: Number(fields.created ?? 0),
    state: fields.state === undefined || fields.state === null ? null : String(fields.state),
    replicaId: String(fields.replica ?? ''),
    attempt: Number(fields.attempt ?? 0),
    /** The result or error a worker finished with (parsed JSON), kept so the record can be repaired. */
    outcome: parsed(fields.outcome),
    orgId: String(fields.org ?? ''),
    endpointId: String(fields.endpoint ?? ''),
    kind: String(fields.kind ?? ''),
    completedAt: fields.completed ? new Date(Number(fields.completed)) : undefined,
    apiKeyId: fields.key ? String(fields.key) : null,
    /** GPU time of the ended job: what its worker reported, or, stopped by the edge, up to the stop. */
    gpuMs: Number(fields.gpu_ms ?? 0),
  };
}

export type JobBookkeeping = ReturnType<typeof toBookkeeping>;

const queues = new WeakMap<Redis, ReturnType<typeof buildJobQueue>>();

/**
 * The scale-to-zero request queue in Redis: atomic, idempotent enqueue; leases (a dead worker's job is
 * re-queued when its lease expires); output relayed through a per-job stream. One per Redis client:
 * its scripts are hashed (SHA-1, for EVALSHA) once, not on every call.
 */
export function createJobQueue(redis: Redis) {
  let queue = queues.get(redis);
  if (!queue) {
    queue = buildJobQueue(redis);
    queues.set(redis, queue);
  }
  return queue;
}

function buildJobQueue(redis: Redis) {
  // Scripts and stream reads carry the jobs' inputs and outputs: their replies are parsed here, where
  // the fields are known, not tried as JSON string by string.
  const raw = withRawReplies(redis);
  const enqueueScript = raw.createScript<[string, number, number?, number?, number?]>(ENQUEUE);
  const takeScript = raw.createScript<unknown[]>(TAKE);
  const appendScript = raw.createScript<number[]>(APPEND);
  const finishScript = raw.createScript<unknown[]>(FINISH);
  const releaseScript = raw.createScript<number>(RELEASE);
  const expireLeasesScript = raw.createScript<number>(EXPIRE_LEASES);
  const releaseUnclaimedScript = raw.createScript<(number | string)[]>(RELEASE_UNCLAIMED);

  /** `worker` is the replica and attempt finishing its own job; null when the edge stops a job. */
  const finish = async (
    jobId: string,
    endpointId: string,
    worker: FinishingWorker | null,
    state: FinalState,
    event: JobEvent['type'],
    payload: unknown,
    nowMs: number,
    gpuMs: number,
    allowedFrom: string,
  ): Promise<{ done: boolean; book: JobBookkeeping }> => {
    const metrics = metricsKeysAt(endpointId, nowMs);
    const [finished, ...values] = await finishScript.exec(
      [
        keys.job(jobId),
        keys.leases(endpointId),
        keys.out(jobId),
        keys.pending(endpointId),
        keys.busy(endpointId),
        keys.busyTime(endpointId),
        metrics.counts,
        metrics.latency,
      ],
      [
        jobId,
        worker?.replicaId ?? '',
        state,
        event,
        payload === undefined ? '' : text(payload),
        String(nowMs),
        String(RETAIN_SECONDS),
        String(gpuMs),
        allowedFrom,
        String(worker?.attempt ?? ''),
        String(METRICS_RETAIN_SECONDS),
        String(MAX_LATENCY_SAMPLES),
        String(worker?.pricePerHourMicroUsd ?? ''),
      ],
    );
    const fields = Object.fromEntries(BOOKKEEPING_FIELDS.map((name, i) => [name, values[i]]));
    return { done: Number(finished) === 1, book: toBookkeeping(fields) };
  };

  /**
   * Relays a worker's output for several of its jobs in one round trip: per job a batch of chunks
   * (`seq` counts that job's batches from 1, so a resent batch is not repeated), and renews their
   * leases. Answers, per job in order, false when it is no longer this attempt's (cancelled,
   * re-queued, overdue).
   */
  const appendMany = async (
    endpointId: string,
    replicaId: string,
    batches: OutputBatch[],
    leaseUntilMs: number,
    nowMs: number,
  ): Promise<boolean[]> => {
    if (batches.length === 0) return [];
    const kept = await appendScript.exec(
      [
        keys.leases(endpointId),
        keys.busy(endpointId),
        ...batches.flatMap((batch) => [keys.job(batch.jobId), keys.out(batch.jobId)]),
      ],
      [
        replicaId,
        String(leaseUntilMs),
        String(RETAIN_SECONDS),
        String(nowMs),
        ...batches.flatMap((batch) => [
          batch.jobId,
          String(batch.attempt),
          String(batch.seq),
          String(batch.chunks.length),
          ...batch.chunks.map(text),
        ]),
      ],
    );
    return batches.map((_, index) => Number(kept[index]) === 1);
  };

  return {
    /** Queues a job; with an idempotency key, a retry returns the first job's id instead of a new job. */
    async enqueue(request: EnqueueRequest): Promise<{
      jobId: string;
      duplicate: boolean;
      /** Jobs now waiting in the endpoint's queue (new jobs, and a repeated request's job still waiting; else 0). */
      waiting: number;
      /** Whether a live replica of the endpoint polled in the last 30 s. */
      workerPolling: boolean;
      /** How many replicas have left the endpoint so far. */
      replicasGone: number;
    }> {
      const useKey = request.idempotencyKey !== undefined;
      const ttl = Math.max(60, Math.ceil((request.deadlineMs - request.nowMs) / 1000) + RETAIN_SECONDS);
      const [jobId, duplicate, waiting, alive, gone] = await enqueueScript.exec(
        [
          // Scoped to the endpoint and to sync/async: the same key elsewhere is another request.
          keys.idempotency(
            request.orgId,
            useKey
              ? `${request.endpointId}:${request.async ? 'async' : 'sync'}:${request.idempotencyKey}`
              : '-',
          ),
          keys.job(request.jobId),
          keys.pending(request.endpointId),
          keys.wake(request.endpointId),
          keys.polls(request.endpointId),
          keys.gone(request.endpointId),
        ],
        [
          request.jobId,
          String(ttl),
          useKey ? '1' : '0',
          // Only a keyed request can be retried into this job, so only its fingerprint is ever compared.
          useKey ? await requestFingerprint(request.kind, request.input) : '',
          String(request.nowMs),
          'state',
          'queued',
          'kind',
          request.kind,
          'org',
          request.orgId,
          'endpoint',
          request.endpointId,
          'input',
          JSON.stringify(request.input),
          'deadline',
          String(request.deadlineMs),
          'created',
          String(request.nowMs),
          'attempt',
          '1',
          'async',
          request.async ? '1' : '0',
          'price',
          String(request.pricePerHourMicroUsd),
          'key',
          request.apiKeyId ?? '',
        ],
      );
      if (Number(duplicate) === 2) {
        throw new ConflictError('This Idempotency-Key was already used for a different request.', {
          param: 'idempotency-key',
        });
      }
      return {
        jobId: String(jobId),
        duplicate: Number(duplicate) === 1,
        waiting: Number(waiting),
        workerPolling: Number(alive) === 1,
        replicasGone: Number(gone ?? 0),
      };
    },

    /**
     * An idle worker waits up to `blockMs` for a wake token (a job waiting that no take has seen yet);
     * true when it got one. Tokens persist, so a job queued since the worker's last take is not missed.
     */
    async waitForWork(endpointId: string, blockMs: number): Promise<boolean> {
      // BLPOP's timeout is in seconds, and 0 would block for ever.
      const seconds = Math.max(blockMs, 10) / 1000;
      const reply = await raw.exec(['BLPOP', keys.wake(endpointId), String(seconds)]);
      return Array.isArray(reply) && reply.length > 0;
    },

    /**
     * A worker's poll: leases up to `max` jobs to the replica. When nothing was taken, `waitForWork`
     * waits for the next job. When `unlessKey` exists (the worker was released), nothing is taken and
     * `stopped` is true. `ended`: the jobs the poll ended instead (lost too often, past deadline).
     */
    async take(
      endpointId: string,
      replicaId: string,
      max: number,
      leaseMs: number,
      nowMs: number,
      unlessKey = '',
    ): Promise<{ jobs: LeasedJob[]; stopped: boolean; ended: string[] }> {
      const metrics = metricsKeysAt(endpointId, nowMs);
      const flat = await takeScript.exec(
        [
          keys.pending(endpointId),
          keys.leases(endpointId),
          keys.wake(endpointId),
          keys.polls(endpointId),
          keys.busy(endpointId),
          metrics.counts,
          metrics.latency,
          keys.lastTake(endpointId, replicaId),
        ],
        [
          String(nowMs),
          String(leaseMs),
          replicaId,
          String(max),
          String(RETAIN_SECONDS),
          unlessKey,
          String(METRICS_RETAIN_SECONDS),
          String(MAX_LATENCY_SAMPLES),
          String(MAX_LOST_LEASES),
          // Fresh per call: the client's own retry of this call runs the script with the same one.
          crypto.randomUUID(),
        ],
      );
      if (flat[0] === 'stopped') return { jobs: [], stopped: true, ended: [] };
      const endedCount = Number(flat[1]);
      const ended = flat.slice(2, 2 + endedCount).map(String);
      const jobs: LeasedJob[] = [];
      for (let i = 2 + endedCount; i + 4 < flat.length; i += 5) {
        jobs.push({
          id: String(flat[i]),
          kind: String(flat[i + 1]) as JobKind,
          input: parsed(flat[i + 2]),
          deadlineMs: Number(flat[i + 3]),
          attempt: Number(flat[i + 4]),
        });
      }
      return { jobs, stopped: false, ended };
    },

    appendMany,

    complete(
      jobId: string,
      endpointId: string,
      worker: FinishingWorker,
      result: unknown,
      gpuMs: number,
      nowMs: number,
    ) {
      return finish(jobId, endpointId, worker, 'succeeded', 'result', result, nowMs, gpuMs, 'running');
    },

    fail(
      jobId: string,
      endpointId: string,
      worker: FinishingWorker,
      error: unknown,
      gpuMs: number,
      nowMs: number,
    ) {
      return finish(jobId, endpointId, worker, 'failed', 'error', error, nowMs, gpuMs, 'running');
    },

    /**
     * A worker hands back the jobs leased to it that it never received (a take's reply was lost, or in
     * flight when it stopped): all its leases but `held` go back to the front of the queue now, not
     * counted as lost. `released`: how many; `ended`: the jobs failed instead, handed back too often.
     */
    async releaseUnclaimed(
      endpointId: string,
      replicaId: string,
      held: string[],
      nowMs: number,
    ): Promise<{ released: number; ended: string[] }> {
      const metrics = metricsKeysAt(endpointId, nowMs);
      const [released, ...ended] = await releaseUnclaimedScript.exec(
        [
          keys.leases(endpointId),
          keys.wake(endpointId),
          keys.pending(endpointId),
          metrics.counts,
          metrics.latency,
        ],
        [
          replicaId,
          String(nowMs),
          String(RETAIN_SECONDS),
          String(METRICS_RETAIN_SECONDS),
          String(MAX_LATENCY_SAMPLES),
          String(MAX_HANDBACKS),
          ...held,
        ],
      );
      return { released: Number(released), ended: ended.map(String) };
    },

    /** The worker gives the job back unfinished (draining); another worker starts it over. */
    async release(jobId: string, endpointId: string, worker: { replicaId: string; attempt: number }) {
      const released = await releaseScript.exec(
        [keys.job(jobId), keys.leases(endpointId), keys.wake(endpointId), keys.pending(endpointId)],
        [jobId, worker.replicaId, String(worker.attempt)],
      );
      return released === 1;
    },

    /**
     * Stops a queued or running job (client gone, deadline, explicit cancel); `done` false if it had
     * already ended. Use `stopJob` (lib/jobs/stop.ts), which also counts the GPU time it used.
     */
    async stop(jobId: string, endpointId: string, state: 'cancelled' | 'timed_out', nowMs: number) {
      return finish(jobId, endpointId, null, state, state, undefined, nowMs, 0, 'queued,running');
    },

    /** Output events after `cursor` ('0' for all), waiting up to `blockMs` for the first. */
    async read(
      jobId: string,
      cursor: string,
      blockMs: number,
    ): Promise<{ cursor: string; events: JobEvent[] }> {
      // No wait at all below 1 ms: Redis reads `BLOCK 0` as "wait for ever".
      const reply = (await raw.xread(
        keys.out(jobId),
        cursor,
        blockMs >= 1 ? { blockMS: blockMs } : undefined,
      )) as [string, [string, string[]][]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      let next = cursor;
      const events: JobEvent[] = [];
      for (const [id, fields] of entries) {
        next = id;
        const record: Record<string, unknown> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) record[String(fields[i])] = fields[i + 1];
        const type = String(record.type) as JobEvent['type'];
        events.push(
          type === 'result'
            ? {
                type,
                data: parsed(record.data),
                gpuMs: Number(record.gpu_ms ?? 0),
                pricePerHourMicroUsd: record.price === undefined ? null : Number(record.price),
              }
            : type === 'chunk' || type === 'error'
              ? { type, data: parsed(record.data) }
              : { type },
        );
      }
      return { cursor: next, events };
    },

    /** GPU time the worker reported for the job. */
    async gpuMs(jobId: string): Promise<number> {
      return Number((await redis.hget(keys.job(jobId), 'gpu_ms')) ?? 0);
    },

    /** What the edge needs to record a job's end: whether it is async, its price, when it started. */
    async bookkeeping(jobId: string): Promise<JobBookkeeping> {
      return toBookkeeping(
        (await redis.hmget<BookkeepingFields>(keys.job(jobId), ...BOOKKEEPING_FIELDS)) ?? {},
      );
    },

    /** GPU seconds each replica spent on the jobs it finished (for the metering pass). */
    async busySeconds(endpointId: string, replicaIds: string[]): Promise<Record<string, number>> {
      if (replicaIds.length === 0) return {};
      const found =
        (await redis.hmget<Record<string, unknown>>(keys.busyTime(endpointId), ...replicaIds)) ?? {};
      return Object.fromEntries(replicaIds.map((id) => [id, Number(found[id] ?? 0) / 1000]));
    },

    /** 1-based place in the endpoint's queue, or null when not waiting. */
    async position(jobId: string, endpointId: string): Promise<number | null> {
      const [index, length] = await Promise.all([
        redis.lpos(keys.pending(endpointId), jobId),
        redis.llen(keys.pending(endpointId)),
      ]);
      return index === null || index === undefined ? null : length - Number(index);
    },

    /**
     * Where a request joining the job (a retry with its Idempotency-Key) starts reading its output: after
     * the last time it was re-queued, since what the lost attempt produced will be produced again.
     */
    async replayCursor(jobId: string): Promise<string> {
      return (await raw.hget<string>(keys.job(jobId), 'restart')) ?? '0';
    },

    async state(jobId: string): Promise<string | null> {
      return (await redis.hget<string>(keys.job(jobId), 'state')) ?? null;
    },

    /** Async jobs that ended in the queue before `beforeMs` and whose end Postgres may not hold yet. */
    async unsettled(beforeMs: number, limit: number): Promise<string[]> {
      return redis.zrange<string[]>(UNSETTLED_KEY, '-inf', beforeMs, {
        byScore: true,
        offset: 0,
        count: limit,
      });
    },

    async forgetUnsettledBefore(beforeMs: number): Promise<void> {
      await redis.zremrangebyscore(UNSETTLED_KEY, '-inf', beforeMs);
    },

    /** Postgres holds these jobs' ends: the sweep need not look at them again. */
    async settled(jobIds: string[]): Promise<void> {
      if (jobIds.length > 0) await redis.zrem(UNSETTLED_KEY, ...(jobIds as [string, ...string[]]));
    },

    /**
     * For the scaling policy, per replica of the endpoint (ms): when it last held a job (`busy`), and
     * when its worker last touched the queue, polling or renewing (`seen`), a sign of life that does
     * not depend on Postgres taking the heartbeat.
     */
    async replicaMarks(
      endpointId: string,
    ): Promise<{ busy: Record<string, number>; seen: Record<string, number> }> {
      const [busyMarks, polls] = await Promise.all([
        redis.hgetall<Record<string, unknown>>(keys.busy(endpointId)),
        redis.zrange<string[]>(keys.polls(endpointId), 0, -1, { withScores: true }),
      ]);
      const busy = Object.fromEntries(
        Object.entries(busyMarks ?? {}).map(([replica, at]) => [replica, Number(at)]),
      );
      const seen: Record<string, number> = { ...busy };
      for (let i = 0; i + 1 < polls.length; i += 2) {
        const [replica, at] = [String(polls[i]), Number(polls[i + 1])];
        seen[replica] = Math.max(seen[replica] ?? 0, at);
      }
      return { busy, seen };
    },

    /**
     * The replica is gone: its busy and poll marks go (the next request wakes the orchestrator), and
     * the jobs it held are re-queued at the next take. Answers how many jobs it held.
     */
    async forgetReplica(endpointId: string, replicaId: string): Promise<number> {
      // At once: an enqueue sees the replica either still polling, or gone and counted as gone (its
      // nudge then has a new id, never deduplicated against one sent while the replica was there).
      await redis
        .multi()
        .hdel(keys.busy(endpointId), replicaId)
        .zrem(keys.polls(endpointId), replicaId)
        .incr(keys.gone(endpointId))
        .exec();
      return Number(
        await expireLeasesScript.exec([keys.leases(endpointId), keys.wake(endpointId)], [replicaId]),
      );
    },

    /** Queued and running counts, for scaling decisions and the 'queue deeper than replicas' check. */
    async depth(endpointId: string): Promise<{ queued: number; running: number }> {
      const [queued, running] = await Promise.all([
        redis.llen(keys.pending(endpointId)),
        redis.zcard(keys.leases(endpointId)),
      ]);
      return { queued, running };
    },
  };
}

export type JobQueue = ReturnType<typeof buildJobQueue>;
