import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { orgs, replicaEvents, replicas } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { insertEndpoint, insertMeteredReplica, testDatabase } from '../../../tests/harness/db.ts';
import { newId } from '../../core/ids.ts';
import { retryReleases } from '../../lib/orchestrator/reconcile.ts';

const database = testDatabase();
const { ctx } = testContext(database.db, { now: () => new Date() });
afterAll(() => database.close());

describe('a release cut short', () => {
  it('is retried by the minute schedule even while metering keeps touching the replica row', async () => {
    const orgId = newId('org');
    await database.db.insert(orgs).values({ id: orgId, name: 'Stuck', slug: orgId.toLowerCase() });
    const endpointId = await insertEndpoint(database.db, orgId);
    const replicaId = await insertMeteredReplica(database.db, {
      orgId,
      endpointId,
      pricePerHourMicroUsd: 3_600_000,
      activeAt: new Date(Date.now() - 10 * 60_000),
      releasedAt: null,
    });
    // Marked releasing five minutes ago by a reconcile that never got to stop it...
    await database.db.update(replicas).set({ state: 'releasing' }).where(eq(replicas.id, replicaId));
    await database.db.insert(replicaEvents).values({
      id: newId('replicaEvent'),
      orgId,
      endpointId,
      replicaId,
      state: 'releasing',
      createdAt: new Date(Date.now() - 5 * 60_000),
    });
    // ...and metered since, as every minute: a write to the row, which renews its updated_at.
    await database.db
      .update(replicas)
      .set({ billedThrough: new Date(Date.now() - 60_000) })
      .where(eq(replicas.id, replicaId));

    await retryReleases(ctx);
    const [row] = await database.db.select().from(replicas).where(eq(replicas.id, replicaId));
    expect(row?.state).toBe('released');
  });
});
