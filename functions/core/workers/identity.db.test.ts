import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { orgs, replicas } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { insertEndpoint, testDatabase } from '../../../tests/harness/db.ts';
import { createReplica } from '../../../tests/harness/workers.ts';
import type { ServiceContext } from '../../context.ts';
import { newId } from '../ids.ts';
import { resolveWorker } from './identity.ts';

const database = testDatabase();
afterAll(() => database.close());

describe('a worker’s first contact', () => {
  it('activates its replica on the next contact when Postgres refused the first, not a heartbeat window later', async () => {
    const orgId = newId('org');
    await database.db.insert(orgs).values({ id: orgId, name: 'Contact', slug: orgId.toLowerCase() });
    const endpointId = await insertEndpoint(database.db, orgId);
    const { replicaId, token } = await createReplica(database.db, orgId, endpointId);
    // Postgres refuses the first contact's write (a blip), then answers again.
    let refusals = 1;
    const db = new Proxy(database.db, {
      get(target, property, receiver) {
        if (property === 'transaction' && refusals > 0) {
          refusals--;
          return () => Promise.reject(new Error('connection refused'));
        }
        return Reflect.get(target, property, receiver);
      },
    });
    let nowMs = Date.now();
    const { ctx, settle } = testContext(db as ServiceContext['db'], { now: () => new Date(nowMs) });
    const state = async () =>
      (await database.db.select().from(replicas).where(eq(replicas.id, replicaId)))[0]?.state;

    await resolveWorker(ctx, token);
    await settle();
    expect(await state()).toBe('provisioning');
    // Its next call, past the 2 s the identity is remembered, well within the 10 s heartbeat window.
    nowMs += 2_500;
    await resolveWorker(ctx, token);
    await settle();
    expect(await state()).toBe('active');
  });
});
