import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase } from '../../tests/harness/db.ts';
import { call, env, signUp } from '../../tests/harness/edge.ts';
import { startLossyProxy } from '../../tests/harness/lossy-proxy.ts';
import { addFunds } from '../../tests/harness/stripe.ts';
import {
  createReplica,
  type RunningAgent,
  startAgent,
  startEdgeServer,
} from '../../tests/harness/workers.ts';
import { createJobQueue } from '../lib/queue/index.ts';
import { createRedis } from '../lib/redis.ts';

const database = testDatabase();
const queue = createJobQueue(
  createRedis({ url: env.UPSTASH_REDIS_REST_URL ?? '', token: env.UPSTASH_REDIS_REST_TOKEN ?? '' }),
);
const agents: RunningAgent[] = [];
let edge: Awaited<ReturnType<typeof startEdgeServer>>;
let ownerToken: string;
let orgId: string;

async function deploy(model = 'llama-3.1-8b-instruct') {
  const created = await call('POST', '/api/deployments', { token: ownerToken, body: { model } });
  return { id: created.body.id as string, key: created.body.deployment_key.key as string };
}

async function agentFor(deploymentId: string, tokenDelayMs: number) {
  const replica = await createReplica(database.db, orgId, deploymentId);
  const agent = startAgent({
    edgeUrl: edge.url,
    token: replica.token,
    replicaId: replica.replicaId,
    tokenDelayMs,
  });
  agents.push(agent);
  return agent;
}

const sdk = (key: string) =>
  new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: key, maxRetries: 0, timeout: 30_000 });
const waitFor = async (check: () => Promise<boolean> | boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
const long =
  'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen';

beforeAll(async () => {
  edge = await startEdgeServer();
  const owner = await signUp('chat-faults');
  ownerToken = owner.token;
  await addFunds(ownerToken, 100);
  orgId = (await call('GET', '/api/auth/me', { token: owner.token })).body.org_id;
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop('SIGKILL')));
  await edge?.close();
  await database.close();
});

describe('chat completions: bad input', () => {
  it('answers OpenAI-shaped 4xx errors the SDK raises as its own classes, and queues nothing', async () => {
    const { id, key } = await deploy();
    const client = sdk(key);
    const cases: [Record<string, unknown>, number, string | null][] = [
      [{ model: 'x' }, 400, 'messages'],
      [{ model: 'x', messages: [] }, 400, 'messages'],
      [{ model: 'x', messages: [{ role: 'wizard', content: 'hi' }] }, 400, 'messages.0.role'],
      [{ model: 'x', messages: [{ role: 'user', content: 42 }] }, 400, 'messages.0.content'],
      [{ model: 'x', messages: [{ role: 'user', content: 'hi' }], temperature: 7 }, 400, 'temperature'],
      [{ model: 'x', messages: [{ role: 'user', content: 'hi' }], n: 3 }, 400, 'n'],
      [{ model: 'x', messages: [{ role: 'user', content: 'hi' }], best_of: 2 }, 400, 'best_of'],
      // An image the GPU host would fetch from inside its own network: refused before it is queued.
      [
        {
          model: 'x',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image_url', image_url: { url: 'http://169.254.169.254/latest/meta-data/' } },
              ],
            },
          ],
        },
        400,
        'messages.0.content.0.image_url.url',
      ],
      // Events to announce with nowhere to send them: refused, not run synchronously instead.
      [
        { model: 'x', messages: [{ role: 'user', content: 'hi' }], webhook_events: ['job.failed'] },
        400,
        'webhook_events',
      ],
    ];
    for (const [body, status, param] of cases) {
      const error = await client.chat.completions.create(body as never).catch((thrown: unknown) => thrown);
      expect(error, JSON.stringify(body)).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
      expect((error as InstanceType<typeof OpenAI.APIError>).param).toBe(param);
    }
    expect(await queue.depth(id)).toEqual({ queued: 0, running: 0 });

    const huge = await fetch(`${edge.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'x',
        messages: [{ role: 'user', content: 'x'.repeat(9 * 1024 * 1024) }],
      }),
    });
    expect(huge.status).toBe(413);
    const badDeadline = await client.chat.completions
      .create(
        { model: 'x', messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'Cancel-After': 'soon' } },
      )
      .catch((thrown: unknown) => thrown);
    expect((badDeadline as InstanceType<typeof OpenAI.APIError>).param).toBe('cancel-after');
  });

  it('refuses with a 400 what no store could keep (NUL, lone surrogates, deep nesting), sync or async', async () => {
    const { id, key } = await deploy();
    const account = (await call('POST', '/api/auth/api-keys', { token: ownerToken, body: { name: 'nul' } }))
      .body.key;
    const send = (bearer: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${edge.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...headers },
        body,
      });
    const message = (content: string) => `{"model":"x","messages":[{"role":"user","content":"${content}"}]}`;
    const deep = `{"model":"x","messages":[{"role":"user","content":"hi"}],"tools":[{"a":${'['.repeat(5000)}${']'.repeat(5000)}}]}`;
    const cases: [string, string, Record<string, string>][] = [
      [key, message('a\\u0000b'), { prefer: 'respond-async' }],
      [key, message('a\\ud800b'), { prefer: 'respond-async' }],
      [account, '{"model":"a\\u0000b","messages":[{"role":"user","content":"hi"}]}', {}],
      [key, deep, {}],
    ];
    for (const [bearer, body, headers] of cases) {
      const response = await send(bearer, body, headers);
      expect(response.status, body.slice(0, 80)).toBe(400);
      expect((await response.json()).error).toMatchObject({
        type: 'invalid_request_error',
        code: 'invalid_request',
      });
    }
    expect(await queue.depth(id)).toEqual({ queued: 0, running: 0 });
  });

  it('refuses unknown models, other deployments and stopped ones', async () => {
    const first = await deploy();
    const second = await deploy('mistral-7b-instruct-v0.3');
    const account = (await call('POST', '/api/auth/api-keys', { token: ownerToken, body: { name: 'acct' } }))
      .body.key;
    const unknown = await sdk(account)
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .catch((thrown: unknown) => thrown);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.APIError>).param).toBe('model');
    // Two deployments of one catalog model: its slug names neither for sure.
    await deploy();
    const ambiguous = await sdk(account)
      .chat.completions.create({
        model: 'llama-3.1-8b-instruct',
        messages: [{ role: 'user', content: 'hi' }],
      })
      .catch((thrown: unknown) => thrown);
    expect(ambiguous).toBeInstanceOf(OpenAI.BadRequestError);
    expect((ambiguous as Error).message).toContain('use the deployment');

    // A deployment key only ever reaches its own endpoint, whatever `model` says.
    const sent = await sdk(first.key)
      .chat.completions.create(
        { model: second.id, messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'Cancel-After': '1' } },
      )
      .catch((thrown: unknown) => thrown);
    expect((sent as InstanceType<typeof OpenAI.APIError>).status).toBe(408);
    expect(await queue.depth(second.id)).toEqual({ queued: 0, running: 0 });
    expect((await call('POST', '/api/auth/api-keys', { token: first.key, body: { name: 'x' } })).status).toBe(
      403,
    );

    await call('POST', `/api/deployments/${second.id}/stop`, { token: ownerToken });
    const stopped = await new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: second.key }).chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
      .catch((thrown: unknown) => thrown);
    expect((stopped as InstanceType<typeof OpenAI.APIError>).status).toBe(409);
    // Final: the SDK, retries on, asked once (a retry would only be refused again).
    expect((stopped as InstanceType<typeof OpenAI.APIError>).headers?.get('x-should-retry')).toBe('false');
    const bad = await sdk('sk_dep_not_a_real_key')
      .models.list()
      .catch((thrown: unknown) => thrown);
    expect(bad).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

describe('chat completions: faults', () => {
  it('times a job out at its Cancel-After deadline with a final 504 and cancels it', async () => {
    const { id, key } = await deploy();
    await agentFor(id, 300);
    const started = Date.now();
    // The SDK's own retries are on: the 504 says not to run (and bill) the job again.
    const retrying = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: key, timeout: 30_000 });
    const error = await retrying.chat.completions
      .create(
        { model: 'm', messages: [{ role: 'user', content: long }] },
        { headers: { 'Cancel-After': '1' } },
      )
      .withResponse()
      .catch((thrown: unknown) => thrown);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect((error as InstanceType<typeof OpenAI.APIError>).type).toBe('timeout_error');
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('x-should-retry')).toBe('false');
    expect(Date.now() - started).toBeLessThan(5_000);
    await waitFor(async () => (await queue.depth(id)).running === 0);
  });

  it('answers a final 408 when no replica took the job before its deadline, and counts it as a failure', async () => {
    const { id, key } = await deploy();
    // The SDK's own retries are on: the 408 says not to use them (the deadline was the caller's).
    const retrying = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: key, timeout: 30_000 });
    const error = await retrying.chat.completions
      .create(
        { model: 'm', messages: [{ role: 'user', content: 'anyone there?' }] },
        { headers: { 'Cancel-After': '1' } },
      )
      .catch((thrown: unknown) => thrown);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(408);
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('x-should-retry')).toBe('false');
    expect((error as Error).message).toContain(
      'No replica started this request within its 1-second deadline',
    );
    expect(await queue.depth(id)).toEqual({ queued: 0, running: 0 });
    const metrics = await call('GET', `/api/deployments/${id}/metrics`, { token: ownerToken });
    expect(metrics.body).toMatchObject({ requests: 1, failures: 1 });
  });

  it('cancels the job when the client goes away mid-stream, and the worker stops', async () => {
    const { id, key } = await deploy();
    const agent = await agentFor(id, 100);
    const controller = new AbortController();
    const stream = await sdk(key).chat.completions.create(
      { model: 'm', messages: [{ role: 'user', content: long }], stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    try {
      for await (const _chunk of stream) {
        seen++;
        if (seen === 3) controller.abort();
      }
    } catch {
      // The SDK may end the iteration or throw on abort; either way the client is gone.
    }
    expect(seen).toBe(3);
    await waitFor(() => agent.output().includes('stopped: no longer ours'));
    expect(agent.output()).not.toMatch(/job \S+ done/);
  });

  it('keeps a keyed job running when its client goes away mid-stream, so the retry gets the whole answer', async () => {
    const { id, key } = await deploy();
    const agent = await agentFor(id, 20);
    const request = {
      model: 'm',
      messages: [{ role: 'user' as const, content: long }],
      stream: true as const,
    };
    const headers = { 'Idempotency-Key': `keyed-stream-${id}` };
    const controller = new AbortController();
    const first = await sdk(key)
      .chat.completions.create(request, { headers, signal: controller.signal })
      .withResponse();
    let seen = 0;
    try {
      for await (const _chunk of first.data) {
        seen++;
        if (seen === 3) controller.abort();
      }
    } catch {
      // The SDK may end the iteration or throw on abort; either way the client is gone.
    }
    expect(seen).toBe(3);
    const retry = await sdk(key).chat.completions.create(request, { headers }).withResponse();
    expect(retry.response.headers.get('x-job-id')).toBe(first.response.headers.get('x-job-id'));
    let text = '';
    for await (const chunk of retry.data) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toContain('You said:');
    await waitFor(() => /job \S+ done/.test(agent.output()));
    expect(agent.output()).not.toContain('stopped: no longer ours');
  });

  it('lets a keyed stream whose worker died be retried: the retry reads the attempt that replaced it', async () => {
    const { id, key } = await deploy();
    const doomed = await agentFor(id, 100);
    const request = {
      model: 'm',
      messages: [{ role: 'user' as const, content: long }],
      stream: true as const,
    };
    const headers = { 'Idempotency-Key': `requeued-stream-${id}` };
    const first = await sdk(key).chat.completions.create(request, { headers }).withResponse();
    let seen = 0;
    let failure: unknown;
    try {
      for await (const _chunk of first.data) {
        seen++;
        if (seen === 3) {
          await doomed.stop('SIGKILL');
          await agentFor(id, 5);
        }
      }
    } catch (thrown) {
      failure = thrown;
    }
    // What this client already received cannot be unsent: its stream ends with the error...
    expect(String(failure)).toContain('lost mid-response');
    // ...and its retry joins the same job from where the new attempt began, not from the lost one.
    const retry = await sdk(key).chat.completions.create(request, { headers }).withResponse();
    expect(retry.response.headers.get('x-job-id')).toBe(first.response.headers.get('x-job-id'));
    let text = '';
    for await (const chunk of retry.data) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toMatch(/^\[development engine\] You said:/);
  });

  it('cancels a streaming request by its x-job-id from elsewhere, and the stream ends with the error', async () => {
    const { id, key } = await deploy();
    const other = await deploy();
    await agentFor(id, 100);
    const { data: stream, response } = await sdk(key)
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: long }], stream: true })
      .withResponse();
    const jobId = response.headers.get('x-job-id') ?? '';
    const cancel = (withKey: string) =>
      fetch(`${edge.url}/v1/jobs/${jobId}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${withKey}` },
      });
    let seen = 0;
    let failure: unknown;
    try {
      for await (const _chunk of stream) {
        seen++;
        if (seen === 2) {
          // Another deployment's key cannot see it; its own can.
          expect((await cancel(other.key)).status).toBe(404);
          const cancelled = await cancel(key);
          expect(cancelled.status).toBe(200);
          expect(await cancelled.json()).toMatchObject({ id: jobId, status: 'cancelled', deployment_id: id });
        }
      }
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toContain('The job was cancelled');
    expect(seen).toBeLessThan(10);
    const view = await (
      await fetch(`${edge.url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${key}` } })
    ).json();
    expect(view).toMatchObject({ status: 'cancelled', kind: 'chat.completion', result: null });
    expect(view.gpu_seconds).toBeGreaterThan(0);
  });

  it('finishes a job exactly once on another worker when its worker is killed mid-job', async () => {
    const { id, key } = await deploy();
    const doomed = await agentFor(id, 200);
    const request = sdk(key)
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'survive a crash' }] })
      .withResponse();
    await waitFor(async () => (await queue.depth(id)).running === 1);
    await doomed.stop('SIGKILL');
    const rescuer = await agentFor(id, 5);
    const { data, response } = await request;
    expect(data.choices[0]?.message.content).toContain('You said: "survive a crash"');
    const jobId = response.headers.get('x-job-id') ?? '';
    await waitFor(() => rescuer.output().includes(`job ${jobId} done`));
    expect(doomed.output()).not.toContain(`job ${jobId} done`);
  });

  it('starts draining at once when stopped while backing off from an unreachable edge', async () => {
    const gone = await startEdgeServer();
    await gone.close();
    const stranded = startAgent({
      edgeUrl: gone.url,
      token: `wt_${'a'.repeat(32)}`,
      replicaId: 'rep_stranded',
    });
    agents.push(stranded);
    // Four refused takes in: the agent is now waiting 4 s before the fifth.
    await waitFor(() => (stranded.output().match(/take failed/g) ?? []).length >= 4);
    const stopping = Date.now();
    expect(await stranded.stop('SIGTERM')).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(2_000);
    expect(stranded.output()).toContain('drained');
  });

  it('hands back the jobs of a take whose reply was lost, and runs them long before their lease', async () => {
    // A 60 s lease: only the hand-back can explain an answer within seconds.
    const patient = await startEdgeServer({ WORKER_LEASE_SECONDS: '60' });
    // Between the worker and the edge: the first take that leased a job has its reply cut off.
    let cutReplies = 0;
    const lossy = await startLossyProxy(patient.url, ({ path, answer }) => {
      if (path !== '/internal/worker/jobs/take' || cutReplies > 0 || !answer.includes('"id"')) return false;
      cutReplies++;
      return true;
    });
    try {
      const { id, key } = await deploy();
      const replica = await createReplica(database.db, orgId, id);
      const worker = startAgent({
        edgeUrl: lossy.url,
        token: replica.token,
        replicaId: replica.replicaId,
      });
      agents.push(worker);
      const started = Date.now();
      const answer = await new OpenAI({
        baseURL: `${patient.url}/v1`,
        apiKey: key,
        maxRetries: 0,
      }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'lost and found' }] });
      expect(answer.choices[0]?.message.content).toContain('You said: "lost and found"');
      expect(cutReplies).toBe(1);
      expect(worker.output()).toContain('1 jobs leased by a take whose reply never arrived handed back');
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await lossy.close();
      await patient.close();
    }
  });

  it('hands a job back when a draining worker runs out of time, and another finishes it long before its lease', async () => {
    // A 60 s lease: only the hand-back can explain a rescue within seconds.
    const patient = await startEdgeServer({ WORKER_LEASE_SECONDS: '60' });
    try {
      const { id, key } = await deploy();
      const replica = await createReplica(database.db, orgId, id);
      const draining = startAgent({
        edgeUrl: patient.url,
        token: replica.token,
        replicaId: replica.replicaId,
        tokenDelayMs: 500,
        drainTimeoutMs: 300,
        // Full with the one job: the SIGTERM must end the wait for a free slot, not the job ending.
        concurrency: 1,
      });
      agents.push(draining);
      const started = Date.now();
      const request = new OpenAI({
        baseURL: `${patient.url}/v1`,
        apiKey: key,
        maxRetries: 0,
      }).chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'hand me back' }],
      });
      await waitFor(async () => (await queue.depth(id)).running === 1);
      // Leased, and a second later surely running on the worker (the take's reply crosses loopback in
      // milliseconds; the answer takes seconds at 500 ms a token).
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await draining.stop('SIGTERM')).toBe(0);
      expect(draining.output()).toContain('drain timed out with 1 jobs running: handing them back');
      const rescue = await createReplica(database.db, orgId, id);
      agents.push(
        startAgent({
          edgeUrl: patient.url,
          token: rescue.token,
          replicaId: rescue.replicaId,
          tokenDelayMs: 5,
        }),
      );
      const answer = await request;
      expect(answer.choices[0]?.message.content).toContain('You said: "hand me back"');
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await patient.close();
    }
  });
});
