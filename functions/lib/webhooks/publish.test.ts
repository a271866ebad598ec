import { afterAll, describe, expect, it } from 'vitest';
import { jobs, orgs, webhookDeliveries } from '../../../db/schema/index.ts';
import { testContext } from '../../../tests/harness/context.ts';
import { insertEndpoint, testDatabase } from '../../../tests/harness/db.ts';
import { newId } from '../../core/ids.ts';
import { publishUnsentDeliveries, UNSENT_AFTER_MS } from './publish.ts';

const database = testDatabase();
const { ctx } = testContext(database.db, { now: () => new Date() });
const published: { body: { delivery_id: string }; deduplicationId?: string }[] = [];
Object.assign(ctx, {
  queue: {
    client: {
      publishJSON: async (message: { body: { delivery_id: string }; deduplicationId?: string }) =>
        void published.push(message),
    },
  },
});
afterAll(() => database.close());

/** A finished async job's webhook delivery, recorded `ago` ms ago, tried `attempts` times. */
async function delivery(orgId: string, endpointId: string, ago: number, attempts = 0) {
  const jobId = newId('job');
  await database.db.insert(jobs).values({ id: jobId, orgId, endpointId, kind: 'chat.completion', input: {} });
  const id = newId('webhookDelivery');
  await database.db.insert(webhookDeliveries).values({
    id,
    orgId,
    jobId,
    event: 'job.succeeded',
    url: 'https://hooks.example.com/jobs',
    attempts,
    createdAt: new Date(Date.now() - ago),
  });
  return id;
}

describe('webhook deliveries whose hand-off to QStash failed', () => {
  it('are handed over by the minute reconcile, once per delivery id; ones tried or just recorded are left alone', async () => {
    const orgId = newId('org');
    await database.db.insert(orgs).values({ id: orgId, name: 'Webhooks', slug: orgId.toLowerCase() });
    const endpointId = await insertEndpoint(database.db, orgId);
    const unsent = await delivery(orgId, endpointId, UNSENT_AFTER_MS + 5_000);
    const fresh = await delivery(orgId, endpointId, 10_000);
    const tried = await delivery(orgId, endpointId, UNSENT_AFTER_MS + 5_000, 1);
    await publishUnsentDeliveries(ctx);
    const mine = published.filter((message) => [unsent, fresh, tried].includes(message.body.delivery_id));
    expect(mine).toEqual([
      expect.objectContaining({ body: { delivery_id: unsent }, deduplicationId: unsent }),
    ]);
  });
});
