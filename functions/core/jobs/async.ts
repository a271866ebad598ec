import { and, eq } from 'drizzle-orm';
import { jobs, webhookDeliveries } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import type { Transaction } from '../../lib/db.ts';
import type { Caller } from '../actor.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { isId } from '../ids.ts';
import { storableJson } from '../json-text.ts';
import { authorizeInference } from '../orgs/authorize.ts';
import { requestFingerprint } from './fingerprint.ts';
import type { JobKind, JobState, WebhookEvent } from './states.ts';

export interface NewAsyncJob {
  id: string;
  endpointId: string;
  kind: JobKind;
  input: unknown;
  deadlineAt: Date;
  idempotencyKey: string | undefined;
  webhookUrl: string | null;
  webhookEvents: WebhookEvent[] | null;
}

/**
 * Records an async job before it is queued, so it can be followed after the request ends. A retry with
 * the same Idempotency-Key finds the first job (unique per org) and is not recorded twice.
 */
export async function recordAsyncJob(ctx: ServiceContext, caller: Caller, job: NewAsyncJob) {
  const apiKeyId = caller.actor.type === 'api_key' ? caller.actor.keyId : null;
  const fingerprint = job.idempotencyKey ? await requestFingerprint(job.kind, job.input) : null;
  const [inserted] = await ctx.db
    .insert(jobs)
    .values({
      id: job.id,
      orgId: caller.orgId,
      endpointId: job.endpointId,
      apiKeyId,
      kind: job.kind,
      input: job.input as object,
      idempotencyKey: job.idempotencyKey ?? null,
      requestFingerprint: fingerprint,
      webhookUrl: job.webhookUrl,
      webhookEvents: job.webhookEvents,
      deadlineAt: job.deadlineAt,
    })
    .onConflictDoNothing()
    .returning();
  if (inserted) return { row: inserted, duplicate: false };
  const [existing] = await ctx.db
    .select()
    .from(jobs)
    .where(and(eq(jobs.orgId, caller.orgId), eq(jobs.idempotencyKey, job.idempotencyKey ?? '')));
  if (!existing) throw new Error('job insert conflicted but no job holds the idempotency key');
  // Jobs recorded before fingerprints were kept are compared by endpoint and kind only.
  const otherRequest = existing.requestFingerprint !== null && existing.requestFingerprint !== fingerprint;
  if (existing.endpointId !== job.endpointId || existing.kind !== job.kind || otherRequest) {
    throw new ConflictError('This Idempotency-Key was already used for a different request.', {
      param: 'idempotency-key',
    });
  }
  return { row: existing, duplicate: true };
}

/** A job the caller may see: its org's, and for a deployment key only its own endpoint's. */
export async function findCallerJob(ctx: ServiceContext, id: string) {
  const { caller, boundEndpointId } = authorizeInference(ctx.caller);
  const notFound = new NotFoundError(`No job '${id}'.`, { param: 'id' });
  if (!isId('job', id)) throw notFound;
  const [row] = await ctx.db
    .select()
    .from(jobs)
    .where(
      and(
        eq(jobs.id, id),
        eq(jobs.orgId, caller.orgId),
        boundEndpointId ? eq(jobs.endpointId, boundEndpointId) : undefined,
      ),
    );
  if (!row) throw notFound;
  return row;
}

export interface JobOutcome {
  state: Extract<JobState, 'succeeded' | 'failed' | 'cancelled' | 'timed_out'>;
  output?: unknown;
  error?: unknown;
  gpuSeconds: number;
  costMicroUsd: number;
  startedAt?: Date | undefined;
}

const EVENT_OF: Record<JobOutcome['state'], WebhookEvent> = {
  succeeded: 'job.succeeded',
  failed: 'job.failed',
  cancelled: 'job.cancelled',
  timed_out: 'job.timed_out',
};

/**
 * Writes a job's end once (a second report finds it ended and changes nothing) and, in the same
 * transaction, the webhook delivery its subscriber asked for. Returns the delivery to send, if any.
 */
export async function recordOutcome(tx: Transaction, jobId: string, outcome: JobOutcome, now: Date) {
  const [row] = await tx.select().from(jobs).where(eq(jobs.id, jobId)).for('update');
  if (!row || ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(row.state)) return null;
  await tx
    .update(jobs)
    .set({
      state: outcome.state,
      // What the model produced is kept whatever it holds (the body check guards what callers send).
      output: storableJson(outcome.output ?? null) as object | null,
      error: storableJson(outcome.error ?? null) as object | null,
      gpuSeconds: outcome.gpuSeconds,
      costMicroUsd: outcome.costMicroUsd,
      startedAt: row.startedAt ?? outcome.startedAt ?? null,
      completedAt: now,
    })
    .where(eq(jobs.id, jobId));
  const event = EVENT_OF[outcome.state];
  if (!row.webhookUrl || (row.webhookEvents && !row.webhookEvents.includes(event))) return null;
  const [delivery] = await tx
    .insert(webhookDeliveries)
    .values({ orgId: row.orgId, jobId, event, url: row.webhookUrl })
    .returning({ id: webhookDeliveries.id });
  return delivery ?? null;
}
