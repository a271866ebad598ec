import { and, inArray, lte } from 'drizzle-orm';
import { jobs } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { TERMINAL_JOB_STATES } from '../../core/jobs/states.ts';
import { addKeySpend } from '../billing/spend.ts';
import { createJobQueue } from '../queue/index.ts';
import { settleAsyncJob } from './settle.ts';
import { stopJob } from './stop.ts';

type JobRow = typeof jobs.$inferSelect;

/**
 * Brings an async job's record up to what the queue knows: a worker's finish that was not recorded,
 * or a job past its deadline (queued with no worker, or running too long), which is stopped and
 * recorded as timed out (and announced). Returns whether the record changed.
 */
export async function repairAsyncJob(
  ctx: ServiceContext,
  row: JobRow,
): Promise<'settled' | 'running' | null> {
  if (TERMINAL_JOB_STATES.has(row.state)) return null;
  const queue = createJobQueue(ctx.redis);
  const now = ctx.clock.now();
  // State first: what is read after it (the outcome) is at least as new, never older.
  let live = await queue.state(row.id);
  let book = await queue.bookkeeping(row.id);
  const overdue = row.deadlineAt !== null && row.deadlineAt <= now;
  if (overdue && (live === null || live === 'queued' || live === 'running')) {
    if (live === null || (await stopJob(ctx, row, 'timed_out'))) {
      live = 'timed_out';
    } else {
      // Its worker finished it between the read and the stop: recorded as it ended, result and all.
      live = (await queue.state(row.id)) ?? 'timed_out';
      book = await queue.bookkeeping(row.id);
    }
  }
  if (live !== null && live !== 'queued' && live !== 'running') {
    const finished = live as 'succeeded' | 'failed' | 'cancelled' | 'timed_out';
    const gpuMs = await queue.gpuMs(row.id);
    // Whoever ended it may have gone before counting its key's spend (counted once per job, so a
    // second count of one already counted adds nothing).
    await addKeySpend(ctx.db, { id: row.id, ...book, gpuMs }, book.completedAt ?? now);
    await settleAsyncJob(ctx, row.id, {
      state: finished,
      output: finished === 'succeeded' ? book.outcome : undefined,
      error: finished === 'failed' ? book.outcome : undefined,
      gpuSeconds: gpuMs / 1000,
      pricePerHourMicroUsd: book.pricePerHourMicroUsd,
      startedAt: book.startedAt,
    });
    return 'settled';
  }
  return live === 'running' && row.state === 'queued' ? 'running' : null;
}

/**
 * The minute schedule's sweep: async jobs past their deadline are timed out and their webhooks sent,
 * even when nobody asks for them.
 */
export async function sweepOverdueJobs(ctx: ServiceContext, limit = 200): Promise<number> {
  const overdue = await ctx.db
    .select()
    .from(jobs)
    .where(and(inArray(jobs.state, ['queued', 'running']), lte(jobs.deadlineAt, ctx.clock.now())))
    .limit(limit);
  return repairEach(ctx, overdue);
}

/** Repairs each row, one's trouble logged without holding up the others; answers how many settled. */
async function repairEach(ctx: ServiceContext, rows: Iterable<JobRow>): Promise<number> {
  let settled = 0;
  for (const row of rows) {
    const outcome = await repairAsyncJob(ctx, row).catch((error: unknown) => {
      ctx.logger.error('ended job not recorded', { jobId: row.id, cause: String(error) });
      return null;
    });
    if (outcome === 'settled') settled++;
  }
  return settled;
}

/**
 * Async jobs that ended in the queue without being recorded (a worker's poll ended them instead of
 * leasing them, or their recorder failed): each is recorded and announced now, one's trouble logged
 * without holding up the others. Answers the rows found, by id, and how many were settled.
 */
export async function settleEndedAsyncJobs(ctx: ServiceContext, ids: string[]) {
  const rows = new Map<string, JobRow>();
  if (ids.length === 0) return { rows, settled: 0 };
  for (const row of await ctx.db.select().from(jobs).where(inArray(jobs.id, ids))) rows.set(row.id, row);
  return { rows, settled: await repairEach(ctx, rows.values()) };
}

/** How long an ended async job is left to its own recorder (a worker's retried finish) before the sweep. */
const UNSETTLED_GRACE_MS = 60_000;
const UNSETTLED_KEEP_MS = 2 * 3_600_000;

/**
 * The minute schedule's catch-up: async jobs that ended in the queue a minute ago or more but whose
 * end Postgres does not hold (the edge went away mid-way, Postgres refused every retry of the
 * worker's finish) are recorded and announced now, rather than when their deadline passes.
 */
export async function settleUnsettledJobs(ctx: ServiceContext, limit = 200): Promise<number> {
  const queue = createJobQueue(ctx.redis);
  const now = ctx.clock.now().getTime();
  // Past every deadline (an hour at most), an unrecorded job is the overdue sweep's: dropped here, so
  // entries whose recording keeps failing cannot crowd newer ones out of the batch for good.
  await queue.forgetUnsettledBefore(now - UNSETTLED_KEEP_MS);
  const ids = await queue.unsettled(now - UNSETTLED_GRACE_MS, limit);
  // One whose recording fails again stays listed for the next sweep.
  const { rows, settled } = await settleEndedAsyncJobs(ctx, ids);
  // Already recorded (only the removal from the list was lost), or never recorded at all.
  const recorded = ids.filter((id) => {
    const row = rows.get(id);
    return !row || TERMINAL_JOB_STATES.has(row.state);
  });
  await queue.settled(recorded);
  return settled;
}
