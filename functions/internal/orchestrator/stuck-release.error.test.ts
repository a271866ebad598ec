import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replicaEvents, replicas } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { insertEndpoint, insertMeteredReplica, testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import { signedReconcile, startEdgeServer } from '../../../tests/harness/workers.ts';
import { newId } from '../../core/ids.ts';
import { meterReplicas } from '../../lib/billing/meter.ts';

const database = testDatabase();
const { ctx } = testContext(database.db, { now: () => new Date() });
let edge: Awaited<ReturnType<typeof startEdgeServer>>;

beforeAll(async () => {
  edge = await startEdgeServer({}, { publicUrlIsSelf: true });
});
afterAll(async () => {
  await edge?.close();
  await database.close();
});

describe('a release cut short', () => {
  it('is retried by the minute schedule even while metering keeps touching the replica row', async () => {
    const { token } = await signUp('stuck-release');
    const orgId = (await call('GET', '/api/auth/me', { token })).body.org_id as string;
    const endpointId = await insertEndpoint(database.db, orgId);
    const replicaId = await insertMeteredReplica(database.db, {
      orgId,
      endpointId,
      pricePerHourMicroUsd: 3_600_000,
      activeAt: new Date(Date.now() - 10 * 60_000),
      releasedAt: null,
    });
    // Marked releasing five minutes ago by a reconcile that never got to stop it.
    await database.db.update(replicas).set({ state: 'releasing' }).where(eq(replicas.id, replicaId));
    await database.db.insert(replicaEvents).values({
      id: newId('replicaEvent'),
      orgId,
      endpointId,
      replicaId,
      state: 'releasing',
      createdAt: new Date(Date.now() - 5 * 60_000),
    });
    // Metering charges its minutes and, with them, rewrites the row's updated_at.
    await meterReplicas(ctx);

    expect((await signedReconcile(edge.url, {})).status).toBe(200);
    const [row] = await database.db.select().from(replicas).where(eq(replicas.id, replicaId));
    expect(row?.state).toBe('released');
  });
});
