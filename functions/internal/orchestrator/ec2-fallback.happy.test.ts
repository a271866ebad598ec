import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replicas } from '../../../db/schema/index.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import { startFakeEc2 } from '../../../tests/harness/fake-ec2.ts';
import { addFunds } from '../../../tests/harness/stripe.ts';
import { signedReconcile, startEdgeServer } from '../../../tests/harness/workers.ts';

const database = testDatabase();
let ec2: Awaited<ReturnType<typeof startFakeEc2>>;
let edge: Awaited<ReturnType<typeof startEdgeServer>>;
let key: string;

beforeAll(async () => {
  ec2 = await startFakeEc2();
  ec2.state.capacity.set('aicloud-g6', 0);
  ec2.state.capacity.set('aicloud-g5', 1);
  edge = await startEdgeServer(
    {
      COMPUTE_PROVIDER: 'ec2',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE000000',
      AWS_SECRET_ACCESS_KEY: 'secret-example-000000',
      AWS_ENDPOINT_URL: ec2.url,
      EC2_LAUNCH_TEMPLATES: JSON.stringify({ l4: 'aicloud-g6', a10g: 'aicloud-g5' }),
      EC2_IMAGES: JSON.stringify({
        vllm: '123456789012.dkr.ecr.us-east-1.amazonaws.com/aicloud/worker-vllm:1',
      }),
    },
    { publicUrlIsSelf: true },
  );
  const { token } = await signUp('ec2-fallback');
  await addFunds(token, 100);
  key = (await call('POST', '/api/auth/api-keys', { token, body: { name: 'ec2' } })).body.key;
});

afterAll(async () => {
  await edge?.close();
  await ec2?.close();
  await database.close();
});

describe('a custom image on EC2 with a GPU fallback list', () => {
  it('starts on the next GPU type when the first has no capacity, and bills that GPU’s price', async () => {
    const created = await fetch(`${edge.url}/api/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        image: 'ghcr.io/acme/model-server:1.2',
        gpu_types: ['l4', 'a10g'],
        min_replicas: 1,
        max_replicas: 1,
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    // Creating it already nudged the orchestrator; this reconcile may find that one at work. Either way
    // the replica is started once, when it has its instance.
    expect((await signedReconcile(edge.url, { endpoint_id: id })).status).toBe(200);
    const started = async () =>
      (await database.db.select().from(replicas).where(eq(replicas.endpointId, id)))[0]?.providerRef ?? null;
    await expect.poll(started, { timeout: 15_000 }).not.toBeNull();
    const launched = ec2.requests.filter((request) => request.action === 'RunInstances');
    // (The SDK may retry a capacity error; the order of the types is what matters.)
    expect([
      ...new Set(launched.map((request) => request.params['LaunchTemplate.LaunchTemplateName'])),
    ]).toEqual(['aicloud-g6', 'aicloud-g5']);
    // One request per GPU type, not one token reused with other parameters.
    expect(new Set(launched.map((request) => request.params.ClientToken)).size).toBe(2);
    const [replica] = await database.db.select().from(replicas).where(eq(replicas.endpointId, id));
    // The A10G's $1.01 an hour, not the L4's $0.80 it was first priced at.
    expect(replica?.pricePerHourMicroUsd).toBe(1_010_000);
  });
});
