import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase } from '../../../tests/harness/db.ts';
import { call, signUp } from '../../../tests/harness/edge.ts';
import { startEdgeServer } from '../../../tests/harness/workers.ts';

const database = testDatabase();
let edge: Awaited<ReturnType<typeof startEdgeServer>>;
let token: string;

beforeAll(async () => {
  // A compute provider that cannot be reached: every start fails.
  edge = await startEdgeServer({ LOCAL_COMPUTE_URL: 'http://127.0.0.1:9' }, { publicUrlIsSelf: true });
  token = (await signUp('orchestrator-faults')).token;
});

afterAll(async () => {
  await edge?.close();
  await database.close();
});

describe('orchestrator faults', () => {
  it('records a failed replica when the provider fails, and answers waiting requests 503 with retry-after', async () => {
    const created = await call('POST', '/api/deployments', {
      token,
      body: { model: 'llama-3.1-8b-instruct', gpu_types: ['a10g', 'l4'] },
    });
    const client = new OpenAI({
      baseURL: `${edge.url}/v1`,
      apiKey: created.body.deployment_key.key,
      maxRetries: 0,
    });
    const error = await client.chat.completions
      .create(
        { model: 'm', messages: [{ role: 'user', content: 'hello?' }] },
        { headers: { 'Cancel-After': '3' } },
      )
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(503);
    expect(apiError.headers?.get('retry-after')).toBe('60');
    expect(apiError.message).toContain(
      'No replica could be started for this deployment (the provider could not start it',
    );

    const events = await call('GET', `/api/deployments/${created.body.id}/events`, { token });
    expect(events.body.data.map((event: { state: string }) => event.state)).toEqual(['failed', 'requested']);
  });
});
