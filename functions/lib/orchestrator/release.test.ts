import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { orgs, replicaEvents, replicas } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { insertEndpoint, testDatabase } from '../../../tests/harness/db.ts';
import { createReplica } from '../../../tests/harness/workers.ts';
import type { ComputeProvider } from '../../core/compute.ts';
import { newId } from '../../core/ids.ts';
import { createJobQueue } from '../queue/index.ts';
import { RECONCILE_PATH } from './nudge.ts';
import { releaseReplica } from './replicas.ts';

const database = testDatabase();
const { ctx, settle } = testContext(database.db, { now: () => new Date() });
const stopped: string[] = [];
const published: { url: string; body: unknown }[] = [];
Object.assign(ctx, {
  compute: {
    name: 'local',
    stop: async (ref: string) => void stopped.push(ref),
  } as unknown as ComputeProvider,
  queue: {
    client: { publishJSON: async (message: { url: string; body: unknown }) => published.push(message) },
  },
});
const queue = createJobQueue(ctx.redis);
afterAll(() => database.close());

/** An active replica of a fresh endpoint, holding `jobs` leased jobs. */
async function replicaHolding(jobs: number) {
  const orgId = newId('org');
  await database.db.insert(orgs).values({ id: orgId, name: 'Release', slug: orgId.toLowerCase() });
  const endpointId = await insertEndpoint(database.db, orgId);
  const { replicaId } = await createReplica(database.db, orgId, endpointId);
  const now = Date.now();
  for (let i = 0; i < jobs; i++) {
    await queue.enqueue({
      jobId: newId('job'),
      orgId,
      endpointId,
      kind: 'chat.completion',
      input: { messages: [{ role: 'user', content: 'hi' }] },
      nowMs: now,
      deadlineMs: now + 60_000,
      pricePerHourMicroUsd: 1_010_000,
    });
  }
  if (jobs > 0) await queue.take(endpointId, replicaId, jobs, 30_000, now);
  const [row] = await database.db
    .update(replicas)
    .set({ state: 'releasing', providerRef: `ref-${replicaId}` })
    .where(eq(replicas.id, replicaId))
    .returning();
  if (!row) throw new Error('replica not stored');
  return { endpointId, row };
}

describe('releasing a replica', () => {
  it('reconciles its endpoint again at once when it held jobs (an idle release racing a take)', async () => {
    const { endpointId, row } = await replicaHolding(1);
    await releaseReplica(ctx, row, 'idle');
    await settle();
    expect(stopped).toContain(row.providerRef);
    expect(published).toContainEqual(
      expect.objectContaining({
        url: expect.stringContaining(RECONCILE_PATH),
        body: { endpoint_id: endpointId },
      }),
    );
    // The job it held is queued again by the next take, for whichever replica comes.
    const { jobs } = await queue.take(endpointId, 'rep_next', 5, 30_000, Date.now() + 1);
    expect(jobs).toHaveLength(1);
  });

  it('keeps a release done once: a second run of it (overlapping minute runs) moves neither its end nor its state', async () => {
    const { row } = await replicaHolding(0);
    await releaseReplica(ctx, row, 'idle');
    const [first] = await database.db.select().from(replicas).where(eq(replicas.id, row.id));
    expect(first?.state).toBe('released');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await releaseReplica(ctx, row, 'retried');
    const [second] = await database.db.select().from(replicas).where(eq(replicas.id, row.id));
    expect(second).toMatchObject({ state: 'released', releasedAt: first?.releasedAt });
    const events = await database.db.select().from(replicaEvents).where(eq(replicaEvents.replicaId, row.id));
    expect(events.filter((event) => event.state === 'released')).toHaveLength(1);
  });

  it('asks for nothing more when it held no job, or when its endpoint may run nothing', async () => {
    const idle = await replicaHolding(0);
    const stopping = await replicaHolding(1);
    published.length = 0;
    await releaseReplica(ctx, idle.row, 'idle');
    await releaseReplica(ctx, stopping.row, 'stopped');
    await settle();
    expect(published).toEqual([]);
  });
});
