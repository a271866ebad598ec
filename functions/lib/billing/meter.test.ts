import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { ledgerEntries, orgs, replicas } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { insertEndpoint, insertMeteredReplica, testDatabase } from '../../../tests/harness/db.ts';
import { derivedBalance } from '../../core/billing/ledger.ts';
import { newId } from '../../core/ids.ts';
import { createJobQueue } from '../queue/index.ts';
import { meterReplicas } from './meter.ts';

const database = testDatabase();
afterAll(() => database.close());

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
let now = T0;
const { ctx } = testContext(database.db, { now: () => new Date(now) });

async function replicaOf(activeAtMs: number, releasedAtMs: number | null) {
  const orgId = newId('org');
  await database.db.insert(orgs).values({ id: orgId, name: 'Metered', slug: orgId.toLowerCase() });
  const endpointId = await insertEndpoint(database.db, orgId);
  const id = await insertMeteredReplica(database.db, {
    orgId,
    endpointId,
    // $3.60 an hour: 1,000 micro-dollars a second.
    pricePerHourMicroUsd: 3_600_000,
    activeAt: new Date(activeAtMs),
    releasedAt: releasedAtMs ? new Date(releasedAtMs) : null,
  });
  return { id, orgId, endpointId };
}

const entriesOf = (replicaId: string) =>
  database.db
    .select()
    .from(ledgerEntries)
    .where(eq(ledgerEntries.reference, replicaId))
    .orderBy(ledgerEntries.id);

describe('metering replica uptime into the ledger', () => {
  it('charges each complete minute once while the replica runs, and the rest when it is released', async () => {
    const { id, orgId } = await replicaOf(T0 + 30_000, null);
    now = T0 + 150_000;
    await meterReplicas(ctx);
    await meterReplicas(ctx);
    // Minutes 12:00 (30 s) and 12:01 (60 s) are complete; 12:02 is not yet.
    expect(await derivedBalance(database.db, orgId)).toBe(-90_000);
    expect(
      (await entriesOf(id)).filter((entry) => entry.orgId === orgId).map((entry) => entry.description),
    ).toEqual([
      'test endpoint: GPU time 2026-11-23T12:00Z (30.0 s)',
      'test endpoint: GPU time 2026-11-23T12:01Z (60.0 s)',
    ]);

    await database.db
      .update(replicas)
      .set({ releasedAt: new Date(T0 + 140_000), state: 'released' })
      .where(eq(replicas.id, id));
    now = T0 + 200_000;
    await meterReplicas(ctx);
    await meterReplicas(ctx);
    expect(await derivedBalance(database.db, orgId)).toBe(-110_000);
    const [row] = await database.db.select().from(replicas).where(eq(replicas.id, id));
    expect(row?.billedThrough?.getTime()).toBe(T0 + 140_000);
  });

  it('meters the replicas left uncharged longest first when more are due than one run takes', async () => {
    // Made in the other order, so that the order of the rows on disk cannot pass for the rule.
    const newer = await replicaOf(T0 - 20 * 60_000, null);
    const older = await replicaOf(T0 - 30 * 60_000, null);
    now = T0 + 60_000;
    await meterReplicas(ctx, 1);
    expect((await entriesOf(older.id)).length).toBeGreaterThan(0);
    expect(await entriesOf(newer.id)).toEqual([]);
    await meterReplicas(ctx, 1);
    expect((await entriesOf(newer.id)).length).toBeGreaterThan(0);
  });

  it('writes the busy time of the jobs a replica finished to its row when it meters it', async () => {
    const { id, orgId, endpointId } = await replicaOf(T0 + 30_000, null);
    const queue = createJobQueue(ctx.redis);
    for (const gpuMs of [1_500, 2_250]) {
      const jobId = newId('job');
      await queue.enqueue({
        jobId,
        orgId,
        endpointId,
        kind: 'chat.completion',
        input: {},
        nowMs: now,
        deadlineMs: now + 60_000,
        pricePerHourMicroUsd: 3_600_000,
      });
      const [taken] = (await queue.take(endpointId, id, 1, 30_000, now)).jobs;
      expect(taken?.id).toBe(jobId);
      // Finished that long after its take (a worker's GPU time never exceeds its lease's age).
      await queue.complete(
        jobId,
        endpointId,
        { replicaId: id, attempt: 1 },
        { ok: true },
        gpuMs,
        now + gpuMs,
      );
    }
    now = T0 + 150_000;
    await meterReplicas(ctx);
    const [row] = await database.db.select().from(replicas).where(eq(replicas.id, id));
    expect(row?.busySeconds).toBe(3.75);
  });

  it('bills a session shorter than a minute as a full minute, once', async () => {
    const { orgId } = await replicaOf(T0 + 10_000, T0 + 25_000);
    now = T0 + 300_000;
    await meterReplicas(ctx);
    await meterReplicas(ctx);
    expect(await derivedBalance(database.db, orgId)).toBe(-60_000);
  });
});
