import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, gpuTypes, models, orgs, replicaEvents, replicas } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { insertEndpoint, testDatabase } from '../../../tests/harness/db.ts';
import { startFakeEcs } from '../../../tests/harness/fake-ecs.ts';
import { orgTransfer, PLATFORM_ACCOUNTS, postTransaction } from '../../core/billing/ledger.ts';
import { newId } from '../../core/ids.ts';
import { reconcileProvider } from './reconcile.ts';
import { startReplica } from './replicas.ts';

const database = testDatabase();
const { ctx } = testContext(database.db, { now: () => new Date() });
let ecs: Awaited<ReturnType<typeof startFakeEcs>>;

beforeAll(async () => {
  ecs = await startFakeEcs();
  // Both capacity providers accept tasks; neither finds a machine for them until told (`ecs.run`).
  ecs.state.capacity.set('g6', 5);
  ecs.state.capacity.set('g5', 5);
  // Reconciled here alone: other suites' orchestrators share the database, not this provider.
  Object.assign(ctx, { compute: ecs.provider({ l4: 'g6', a10g: 'g5' }) });
});

afterAll(async () => {
  await ecs?.close();
  await database.close();
});

/** A funded org's Llama deployment preferring L4, then A10G, with one replica started on the L4s. */
async function waitingReplica() {
  const orgId = newId('org');
  await database.db.insert(orgs).values({ id: orgId, name: 'Placement', slug: orgId.toLowerCase() });
  await database.db.transaction((tx) =>
    postTransaction(tx, {
      kind: 'adjustment',
      idempotencyKey: `placement-test:${orgId}`,
      description: 'test funds',
      lines: orgTransfer(orgId, PLATFORM_ACCOUNTS.adjustments, 100_000_000),
    }),
  );
  const [model] = await database.db.select().from(models).where(eq(models.slug, 'llama-3.1-8b-instruct'));
  const [l4] = await database.db.select().from(gpuTypes).where(eq(gpuTypes.slug, 'l4'));
  const endpointId = await insertEndpoint(database.db, orgId);
  const [endpoint] = await database.db
    .update(endpoints)
    .set({ image: null, modelId: model?.id, gpuTypes: ['l4', 'a10g'] })
    .where(eq(endpoints.id, endpointId))
    .returning();
  if (!endpoint || !l4) throw new Error('catalog not seeded');
  const row = {
    id: newId('replica'),
    orgId,
    endpointId,
    gpuTypeId: l4.id,
    gpuCount: 1,
    provider: 'ecs' as const,
    state: 'requested' as const,
    workerTokenHash: 'first-token-hash',
    pricePerHourMicroUsd: model?.pricePerHourMicroUsd ?? 0,
  };
  await database.db.insert(replicas).values(row);
  await startReplica(ctx, endpoint, { row, workerToken: 'wt_first', model });
  return row.id;
}

const replica = async (id: string) => {
  const [row] = await database.db.select().from(replicas).where(eq(replicas.id, id));
  const [gpu] = await database.db
    .select()
    .from(gpuTypes)
    .where(eq(gpuTypes.id, row?.gpuTypeId ?? ''));
  return { ...row, gpu: gpu?.slug };
};
const runTasks = () => ecs.requests.filter((request) => request.action === 'RunTask');

describe('a replica its ECS capacity provider finds no machine for', () => {
  it('moves to the next GPU type after the placement timeout, and waits on the last one', async () => {
    const id = await waitingReplica();
    const first = await replica(id);
    expect(first).toMatchObject({ state: 'provisioning', gpu: 'l4' });
    const firstTask = first.providerRef ?? '';

    // Waiting under the timeout (600 s by default) is left alone: machines take minutes to join.
    ecs.age(firstTask, 300_000);
    expect((await reconcileProvider(ctx)).moved).toBe(0);
    expect((await replica(id)).providerRef).toBe(firstTask);

    ecs.age(firstTask, 301_000);
    expect((await reconcileProvider(ctx)).moved).toBe(1);
    const moved = await replica(id);
    // The same replica, now waiting on the A10G family; the L4 task is stopped, not left to start.
    expect(moved).toMatchObject({ state: 'provisioning', gpu: 'a10g' });
    expect(moved.providerRef).not.toBe(firstTask);
    expect(ecs.tasks.get(firstTask)?.lastStatus).toBe('STOPPED');
    expect(runTasks().at(-1)?.body.capacityProviderStrategy).toEqual([{ capacityProvider: 'g5', weight: 1 }]);
    // A new worker token: the L4 task's, were it placed after all, takes no jobs.
    expect(moved.workerTokenHash).not.toBe('first-token-hash');
    const events = await database.db.select().from(replicaEvents).where(eq(replicaEvents.replicaId, id));
    expect(events.map((event) => event.detail)).toContain('ecs: a10g × 1 (no l4 machine for it in 10 min)');

    // The stopped L4 task is not taken for the replica ending; on the last type it waits (the
    // startup timeout bounds that), with no new task.
    const starts = runTasks().length;
    ecs.age(moved.providerRef ?? '', 900_000);
    expect(await reconcileProvider(ctx)).toMatchObject({ moved: 0, failed: 0, orphansStopped: 0 });
    expect(await replica(id)).toMatchObject({ state: 'provisioning', providerRef: moved.providerRef });
    expect(runTasks().length).toBe(starts);

    // Placed at last: the worker's first contact makes it active as ever.
    ecs.run(moved.providerRef ?? '');
    expect(await reconcileProvider(ctx)).toMatchObject({ moved: 0, failed: 0 });
  });
});
