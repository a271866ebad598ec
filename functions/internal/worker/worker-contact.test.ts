import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { replicas } from '../../../db/schema/index.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import { createReplica } from '../../../tests/harness/workers.ts';

const database = testDatabase();
afterAll(() => database.close());

describe("a worker's first contact", () => {
  it('activates its replica and records the heartbeat, written after the answer but before the request ends', async () => {
    const owner = await signUp('worker-contact');
    const deployment = await call('POST', '/api/deployments', {
      token: owner.token,
      body: { model: 'llama-3.1-8b-instruct' },
    });
    const orgId = (await call('GET', '/api/auth/me', { token: owner.token })).body.org_id;
    const worker = await createReplica(database.db, orgId, deployment.body.id);
    // The first call resolves the worker from Postgres (no cached identity yet): the request's pool
    // is in use, and the contact is recorded as deferred work on that same request.
    const logged = await call('POST', '/internal/worker/logs', { token: worker.token, body: { lines: [] } });
    expect(logged.status).toBe(200);
    const [row] = await database.db.select().from(replicas).where(eq(replicas.id, worker.replicaId));
    expect(row?.state).toBe('active');
    expect(row?.lastHeartbeatAt).not.toBeNull();
  });
});
