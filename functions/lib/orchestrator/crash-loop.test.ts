import { and, eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { auditLog, endpoints, gpuTypes, orgs, replicas } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { insertEndpoint, liveReplicas as liveReplicasOf, testDatabase } from '../../../tests/harness/db.ts';
import type { ServiceContext } from '../../context.ts';
import { orgTransfer, PLATFORM_ACCOUNTS, postTransaction } from '../../core/billing/ledger.ts';
import type { ComputeProvider } from '../../core/compute.ts';
import { listDeployments } from '../../core/deployments/manage.ts';
import { deploymentRuntime } from '../../core/deployments/runtime.ts';
import { newId } from '../../core/ids.ts';
import { backoffMs, GIVE_UP_AFTER } from '../../core/scaling/crash-loop.ts';
import {
  failInterruptedStarts,
  reconcileEndpoint,
  replicaEnded,
  START_ANSWER_TIMEOUT_MS,
} from './reconcile.ts';

const database = testDatabase();
const { ctx } = testContext(database.db, { now: () => new Date() });
const started: string[] = [];
// A provider whose every replica exits at once: each start is accepted, and nothing is ever running.
Object.assign(ctx, {
  compute: {
    name: 'local',
    start: async ({ replicaId }: { replicaId: string }) => {
      started.push(replicaId);
      return { providerRef: `ref-${replicaId}` };
    },
    stop: async () => {},
    list: async () => [],
  } as unknown as ComputeProvider,
  queue: { client: { publishJSON: async () => {} } },
});
afterAll(() => database.close());

/** A funded org's deployment that keeps one replica warm. */
async function crashingDeployment() {
  const orgId = newId('org');
  await database.db.insert(orgs).values({ id: orgId, name: 'Crash loop', slug: orgId.toLowerCase() });
  await database.db.transaction((tx) =>
    postTransaction(tx, {
      kind: 'adjustment',
      idempotencyKey: `crash-loop-test:${orgId}`,
      description: 'test funds',
      lines: orgTransfer(orgId, PLATFORM_ACCOUNTS.adjustments, 100_000_000),
    }),
  );
  const endpointId = await insertEndpoint(database.db, orgId);
  await database.db.update(endpoints).set({ minReplicas: 1 }).where(eq(endpoints.id, endpointId));
  return endpointId;
}

const liveReplicas = (endpointId: string) => liveReplicasOf(database.db, endpointId);

/** The deployment as its org's list shows it. */
const listed = async (endpointId: string) => {
  const [endpoint] = await database.db.select().from(endpoints).where(eq(endpoints.id, endpointId));
  const caller = {
    orgId: endpoint?.orgId ?? '',
    actor: {
      type: 'user' as const,
      userId: 'usr_viewer',
      sessionId: 'ses_x',
      role: 'viewer' as const,
      emailVerified: true,
    },
  };
  const page = await listDeployments({ ctx: { ...ctx, caller } as ServiceContext, limit: 10 });
  return page.data.find((deployment) => deployment.id === endpointId);
};

const runtimeOf = async (endpointId: string) => {
  const [endpoint] = await database.db.select().from(endpoints).where(eq(endpoints.id, endpointId));
  if (!endpoint) throw new Error('endpoint not stored');
  return deploymentRuntime(ctx, endpoint);
};

/** Moves the endpoint's failures `ms` into the past: its backoff has been waited out. */
const waitOut = (endpointId: string, ms: number) =>
  database.db
    .update(replicas)
    .set({ releasedAt: sql`${replicas.releasedAt} - make_interval(secs => ${ms / 1000})` })
    .where(and(eq(replicas.endpointId, endpointId), eq(replicas.state, 'failed')));

describe('a deployment whose replicas keep failing to start', () => {
  it('replaces the first at once, backs off the next ones, then stops the deployment until its owner starts it', async () => {
    const endpointId = await crashingDeployment();
    await reconcileEndpoint(ctx, endpointId);
    for (let failures = 1; failures <= GIVE_UP_AFTER; failures++) {
      const [replica, ...others] = await liveReplicas(endpointId);
      expect(others).toEqual([]);
      // The provider reports its exit; the endpoint is reconciled at once.
      await replicaEnded(ctx, { replicaId: replica?.id ?? '' }, 'exit code 1');
      const after = await liveReplicas(endpointId);
      if (failures === 1 || failures === GIVE_UP_AFTER) {
        expect(after).toHaveLength(failures === 1 ? 1 : 0);
        continue;
      }
      expect(after).toEqual([]);
      // Its page says so: failing, with the count; so does the list of deployments.
      expect(await runtimeOf(endpointId)).toMatchObject({ status: 'failing', failed_starts: failures });
      expect((await listed(endpointId))?.failed_starts).toBe(failures);
      // Until its backoff has passed, neither the minute schedule nor a request's nudge starts one.
      await waitOut(endpointId, backoffMs(failures) - 5_000);
      expect((await reconcileEndpoint(ctx, endpointId))?.hold?.kind).toBe('backoff');
      expect(await liveReplicas(endpointId)).toEqual([]);
      await waitOut(endpointId, 5_000);
      expect((await reconcileEndpoint(ctx, endpointId))?.start).toBe(1);
    }
    const [endpoint] = await database.db.select().from(endpoints).where(eq(endpoints.id, endpointId));
    expect(endpoint?.state).toBe('stopped');
    const [audit] = await database.db.select().from(auditLog).where(eq(auditLog.targetId, endpointId));
    expect(audit).toMatchObject({
      action: 'deployment.stop',
      actorType: 'system',
      metadata: { reason: 'failed_starts', failed_starts: GIVE_UP_AFTER },
    });
    const startsBeforeStop = started.length;
    await waitOut(endpointId, 3_600_000);
    await reconcileEndpoint(ctx, endpointId);
    expect(started.length).toBe(startsBeforeStop);

    // Started again (its owner fixed the image, say): a replica starts at once.
    await database.db.update(endpoints).set({ state: 'active' }).where(eq(endpoints.id, endpointId));
    expect((await reconcileEndpoint(ctx, endpointId))?.start).toBe(1);
    expect(await liveReplicas(endpointId)).toHaveLength(1);
    expect(await runtimeOf(endpointId)).toMatchObject({ status: 'starting', failed_starts: 0 });
  });
});

describe('a start cut short before the provider answered', () => {
  it('is failed after a few minutes, and its endpoint starts another instead of waiting out the startup timeout', async () => {
    const endpointId = await crashingDeployment();
    const [endpoint] = await database.db.select().from(endpoints).where(eq(endpoints.id, endpointId));
    const [gpu] = await database.db.select().from(gpuTypes).where(eq(gpuTypes.slug, 'a10g'));
    const interrupted = newId('replica');
    await database.db.insert(replicas).values({
      id: interrupted,
      orgId: endpoint?.orgId ?? '',
      endpointId,
      gpuTypeId: gpu?.id ?? '',
      provider: 'local',
      workerTokenHash: `hash-${interrupted}`,
      pricePerHourMicroUsd: 1_000_000,
      requestedAt: new Date(Date.now() - START_ANSWER_TIMEOUT_MS + 10_000),
    });
    // Still within the time a start may take: counted as starting.
    expect(await failInterruptedStarts(ctx)).toBe(0);
    expect((await reconcileEndpoint(ctx, endpointId))?.start).toBe(0);

    await database.db
      .update(replicas)
      .set({ requestedAt: new Date(Date.now() - START_ANSWER_TIMEOUT_MS - 1_000) })
      .where(eq(replicas.id, interrupted));
    expect(await failInterruptedStarts(ctx)).toBeGreaterThanOrEqual(1);
    const [failed] = await database.db.select().from(replicas).where(eq(replicas.id, interrupted));
    expect(failed).toMatchObject({ state: 'failed', failureReason: expect.stringMatching(/interrupted/) });
    expect((await reconcileEndpoint(ctx, endpointId))?.start).toBe(1);
    expect((await liveReplicas(endpointId)).map((row) => row.providerRef)).toEqual([
      expect.stringMatching(/^ref-/),
    ]);
  });
});

describe('a provider report about a task its replica has left', () => {
  it('changes nothing: the replica moved on (another GPU type) and runs elsewhere', async () => {
    const endpointId = await crashingDeployment();
    await reconcileEndpoint(ctx, endpointId);
    const [replica] = await liveReplicas(endpointId);
    const left = await replicaEnded(
      ctx,
      { replicaId: replica?.id ?? '', providerRef: 'ref-task-it-left' },
      'stopped',
    );
    expect(left).toBeNull();
    expect((await liveReplicas(endpointId)).map((row) => row.id)).toEqual([replica?.id]);
    // Its own task's report fails it.
    await replicaEnded(
      ctx,
      { replicaId: replica?.id ?? '', providerRef: replica?.providerRef ?? '' },
      'exit 1',
    );
    const [row] = await database.db
      .select()
      .from(replicas)
      .where(eq(replicas.id, replica?.id ?? ''));
    expect(row?.state).toBe('failed');
  });
});
