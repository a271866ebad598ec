import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase } from '../../tests/harness/db.ts';
import { call, signUp } from '../../tests/harness/edge.ts';
import { addFunds } from '../../tests/harness/stripe.ts';
import {
  createReplica,
  type RunningAgent,
  startAgent,
  startEdgeServer,
} from '../../tests/harness/workers.ts';

const database = testDatabase();
let edge: Awaited<ReturnType<typeof startEdgeServer>>;
let agent: RunningAgent;
let client: OpenAI;
let deploymentId: string;
let ownerToken: string;

beforeAll(async () => {
  edge = await startEdgeServer();
  const owner = await signUp('chat');
  ownerToken = owner.token;
  await addFunds(ownerToken, 100);
  const created = await call('POST', '/api/deployments', {
    token: owner.token,
    body: { model: 'llama-3.1-8b-instruct' },
  });
  deploymentId = created.body.id;
  const orgId = (await call('GET', '/api/auth/me', { token: owner.token })).body.org_id;
  const replica = await createReplica(database.db, orgId, deploymentId);
  agent = startAgent({ edgeUrl: edge.url, token: replica.token, replicaId: replica.replicaId });
  client = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: created.body.deployment_key.key, maxRetries: 0 });
});

afterAll(async () => {
  await agent?.stop();
  await edge?.close();
  await database.close();
});

describe('chat completions through the queue, with the official openai SDK', () => {
  it('answers a non-streaming request with usage, GPU seconds and cost', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'llama', messages: [{ role: 'user', content: 'Hello there, GPU cloud' }] })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('llama');
    expect(data.choices[0]?.message.content).toContain(
      '[development engine] You said: "Hello there, GPU cloud"',
    );
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage?.prompt_tokens).toBe(4);
    expect(data.usage?.completion_tokens).toBeGreaterThan(5);
    expect(response.headers.get('x-job-id')).toMatch(/^job_/);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(Number(response.headers.get('x-gpu-seconds'))).toBeGreaterThan(0);
    expect(Number(response.headers.get('x-cost-usd'))).toBeGreaterThan(0);
  });

  it('continues a conversation replayed as the SDK returned it, with OpenAI-only settings accepted', async () => {
    const reply = await client.chat.completions.create({
      model: 'llama',
      messages: [
        { role: 'user', content: 'Hi' },
        // What an OpenAI SDK's returned message carries besides the text.
        { role: 'assistant', content: 'Hello!', refusal: null, annotations: [] } as never,
        { role: 'user', content: 'And now?' },
      ],
      metadata: { team: 'search' },
      store: false,
      service_tier: 'auto',
      logprobs: false,
      parallel_tool_calls: true,
      stream: true,
      stream_options: { include_usage: true, include_obfuscation: false },
    });
    let text = '';
    for await (const chunk of reply) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toContain('You said: "And now?"');
  });

  it('streams chunks over SSE and ends with a usage chunk when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'llama',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 6,
    });
    const pieces: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (choice?.delta.content) pieces.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    expect(pieces.length).toBe(6);
    expect(pieces.join('')).toBe('[development engine] You said: "stream please".');
    expect(finish).toBe('length');
    expect(usage).toMatchObject({ completion_tokens: 6, total_tokens: 8 });
    expect((usage as unknown as { gpu_seconds: number }).gpu_seconds).toBeGreaterThan(0);
  });

  it('lists the deployment as a model, and an account key calls it by id', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual([deploymentId]);
    const account = (await call('POST', '/api/auth/api-keys', { token: ownerToken, body: { name: 'sdk' } }))
      .body.key;
    const viaAccount = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: account, maxRetries: 0 });
    const reply = await viaAccount.chat.completions.create({
      model: deploymentId,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(reply.model).toBe(deploymentId);
  });

  it('returns the first answer for a retried request with the same Idempotency-Key, and refuses the key for another request', async () => {
    const request = { model: 'llama', messages: [{ role: 'user' as const, content: 'only once' }] };
    const headers = { 'Idempotency-Key': `retry-${Date.now()}` };
    const first = await client.chat.completions.create(request, { headers }).withResponse();
    const second = await client.chat.completions.create(request, { headers }).withResponse();
    expect(second.response.headers.get('x-job-id')).toBe(first.response.headers.get('x-job-id'));
    expect(second.data.id).toBe(first.data.id);
    const reused = await client.chat.completions
      .create({ ...request, messages: [{ role: 'user' as const, content: 'something else' }] }, { headers })
      .catch((thrown: unknown) => thrown);
    expect(reused).toBeInstanceOf(OpenAI.ConflictError);
    expect((reused as InstanceType<typeof OpenAI.APIError>).param).toBe('idempotency-key');
  });

  it('completes text with the legacy Completions API, streaming too', async () => {
    const completion = await client.completions.create({
      model: 'llama',
      prompt: 'Once upon a time',
      max_tokens: 4,
    });
    expect(completion.object).toBe('text_completion');
    expect(completion.choices[0]?.text).toBe('[development engine] You said:');
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 4 });
    const stream = await client.completions.create({
      model: 'llama',
      prompt: 'Once upon a time',
      max_tokens: 4,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(completion.choices[0]?.text);
  });

  it('embeds text as unit vectors, the same text the same way, through the SDK’s base64 default', async () => {
    const result = await client.embeddings.create({ model: 'llama', input: ['alpha', 'beta', 'alpha'] });
    expect(result.data).toHaveLength(3);
    const [alpha, beta, again] = result.data.map((item) => item.embedding);
    expect(alpha).toHaveLength(384);
    expect(Math.hypot(...(alpha ?? []))).toBeCloseTo(1, 5);
    expect(again).toEqual(alpha);
    expect(beta).not.toEqual(alpha);
    const small = await client.embeddings.create({
      model: 'llama',
      input: 'x',
      dimensions: 8,
      encoding_format: 'float',
    });
    expect(small.data[0]?.embedding).toHaveLength(8);
  });

  it('shows the traffic in the deployment’s metrics and the workers’ lines in its logs', async () => {
    const metrics = await call('GET', `/api/deployments/${deploymentId}/metrics?window_minutes=10`, {
      token: ownerToken,
    });
    expect(metrics.status).toBe(200);
    expect(metrics.body.requests).toBeGreaterThanOrEqual(6);
    expect(metrics.body.failures).toBe(0);
    expect(metrics.body.gpu_seconds).toBeGreaterThan(0);
    expect(metrics.body.latency_ms.p50).toBeGreaterThan(0);
    expect(metrics.body.latency_ms.p99).toBeGreaterThanOrEqual(metrics.body.latency_ms.p50);
    expect(metrics.body.queue).toEqual({ queued: 0, running: 0 });
    expect(metrics.body.replicas).toEqual({ active: 1 });
    expect(metrics.body.per_minute).toHaveLength(10);
    // Each minute has its own latency percentiles (null while idle), for the latency chart.
    const busy = metrics.body.per_minute.filter((minute: { requests: number }) => minute.requests > 0);
    expect(busy.length).toBeGreaterThan(0);
    for (const minute of busy) {
      expect(minute.latency_p50_ms).toBeGreaterThan(0);
      expect(minute.latency_p99_ms).toBeGreaterThanOrEqual(minute.latency_p50_ms);
    }
    const idle = metrics.body.per_minute.filter((minute: { requests: number }) => minute.requests === 0);
    for (const minute of idle) expect(minute.latency_p50_ms).toBeNull();
    // The replica's uptime in the window, and how much of it ran jobs.
    expect(metrics.body.uptime_seconds).toBeGreaterThan(0);
    expect(metrics.body.utilisation).toBeGreaterThan(0);
    expect(metrics.body.utilisation).toBeLessThanOrEqual(1);

    const logs = await waitForLogs();
    expect(logs.some((entry: { line: string }) => /job job_\S+ done/.test(entry.line))).toBe(true);
    const tail = await call('GET', `/api/deployments/${deploymentId}/logs?after=${logs.at(-1).id}`, {
      token: ownerToken,
    });
    expect(tail.body.data).toEqual([]);

    // The status stream carries the same lines when asked, from a given line on.
    const stream = `/api/deployments/${deploymentId}/events/stream?timeout_seconds=0`;
    const logFrames = async (after: string) => {
      const answer = await call('GET', `${stream}&logs_after=${after}`, { token: ownerToken });
      expect(answer.status).toBe(200);
      return (answer.body as string)
        .split('\n\n')
        .filter((frame) => frame.startsWith('event: log'))
        .map((frame) => JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? 'null'));
    };
    // (Workers send lines in batches, so more may have arrived since the REST read.)
    const streamed = await logFrames('0-0');
    const ids = (lines: { id: string }[]) => lines.map((line) => line.id);
    expect(ids(streamed.slice(0, logs.length))).toEqual(ids(logs));
    expect(streamed[0]).toMatchObject({ replica_id: expect.stringMatching(/^rep_/), line: logs[0].line });
    expect(streamed.length).toBeGreaterThan(1);
    const resumed = await logFrames(streamed[0].id);
    expect(resumed[0]).toEqual(streamed[1]);
    expect(ids(resumed)).not.toContain(streamed[0].id);
    // Without `logs_after` the stream sends no lines; a malformed cursor is refused.
    expect((await call('GET', stream, { token: ownerToken })).body).not.toContain('event: log');
    const bad = await call('GET', `${stream}&logs_after=latest`, { token: ownerToken });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ param: 'logs_after', type: 'invalid_request_error' });
  });
});

/** The deployment's log lines once one reports a finished job (workers ship their lines every second). */
async function waitForLogs() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const logs = await call('GET', `/api/deployments/${deploymentId}/logs`, { token: ownerToken });
    if (logs.body.data.some((entry: { line: string }) => /job job_\S+ done/.test(entry.line))) {
      return logs.body.data;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no worker log line about a finished job arrived');
}
