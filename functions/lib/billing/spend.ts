import { and, inArray, lt, sql } from 'drizzle-orm';
import { keySpends, spendCounters } from '../../../db/schema/index.ts';
import { apiKeySubject, spendPeriods } from '../../core/billing/caps.ts';
import { costMicroUsd } from '../../core/billing/cost.ts';
import type { Database, Transaction } from '../db.ts';

/** Adds a spend to its subject's day, month and all-time counters (in the caller's transaction). */
export async function addSpend(tx: Transaction | Database, subject: string, at: Date, microUsd: number) {
  if (microUsd <= 0) return;
  const periods = spendPeriods(at);
  await tx
    .insert(spendCounters)
    .values(
      [periods.day, periods.month, periods.total].map((period) => ({
        subject,
        period,
        spendMicroUsd: microUsd,
      })),
    )
    .onConflictDoUpdate({
      target: [spendCounters.subject, spendCounters.period],
      set: { spendMicroUsd: sql`${spendCounters.spendMicroUsd} + excluded.spend_micro_usd` },
    });
}

/**
 * A job's GPU time counts against its API key's spend caps however it ended: finished by its worker,
 * or stopped by the edge (client gone, deadline, cancel) after running a while. Once per job, whoever
 * calls: the job is recorded in `key_spends` by the same statement that adds to the counters, so a
 * retried finish (its first reply lost, or the edge gone before it counted) adds nothing twice and
 * misses nothing.
 */
export async function addKeySpend(
  db: Database,
  job: { id: string; apiKeyId: string | null; gpuMs: number; pricePerHourMicroUsd: number },
  at: Date,
) {
  if (!job.apiKeyId) return;
  const microUsd = costMicroUsd(job.gpuMs / 1000, job.pricePerHourMicroUsd);
  if (microUsd <= 0) return;
  const periods = spendPeriods(at);
  // One statement, so atomic: the counters move only if this call is the one that recorded the job.
  await db.execute(sql`
    with recorded as (
      insert into ${keySpends} (job_id, api_key_id, spent_at)
      values (${job.id}, ${job.apiKeyId}, ${at.toISOString()})
      on conflict (job_id) do nothing
      returning job_id
    )
    insert into ${spendCounters} (subject, period, spend_micro_usd)
    select ${apiKeySubject(job.apiKeyId)}, period, ${microUsd}::bigint
    from recorded, unnest(array[${periods.day}, ${periods.month}, ${periods.total}]::text[]) as period
    on conflict (subject, period)
      do update set spend_micro_usd = ${spendCounters}.spend_micro_usd + excluded.spend_micro_usd`);
}

/** Forgets which jobs' spend was counted once no finish of theirs can be retried any more. */
export async function pruneKeySpends(db: Database, before: Date) {
  await db.delete(keySpends).where(lt(keySpends.spentAt, before));
}

/** Today's, this month's and all-time spend of each subject (zeros when nothing was spent). */
export async function spendOf(db: Database | Transaction, subjects: string[], now: Date) {
  const periods = spendPeriods(now);
  const rows =
    subjects.length === 0
      ? []
      : await db
          .select()
          .from(spendCounters)
          .where(
            and(
              inArray(spendCounters.subject, subjects),
              inArray(spendCounters.period, [periods.day, periods.month, periods.total]),
            ),
          );
  const result = new Map(subjects.map((subject) => [subject, { day: 0, month: 0, total: 0 }]));
  for (const row of rows) {
    const spend = result.get(row.subject);
    if (!spend) continue;
    if (row.period === periods.day) spend.day = row.spendMicroUsd;
    else if (row.period === periods.month) spend.month = row.spendMicroUsd;
    else spend.total = row.spendMicroUsd;
  }
  return result;
}

/** Copies every counter of one subject to another (a regenerated key keeps its spend). */
export async function carrySpend(tx: Transaction, from: string, to: string) {
  await tx.execute(sql`
    insert into spend_counters (subject, period, spend_micro_usd)
    select ${to}, period, spend_micro_usd from spend_counters where subject = ${from}
    on conflict (subject, period) do update set spend_micro_usd = excluded.spend_micro_usd`);
}
