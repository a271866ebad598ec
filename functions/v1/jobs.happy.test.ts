import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs, replicas } from '../../db/schema/index.ts';
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
import { newId } from '../core/ids.ts';
import { requestFingerprint } from '../core/jobs/fingerprint.ts';
import { createJobQueue, MAX_LOST_LEASES } from '../lib/queue/index.ts';
import { createRedis } from '../lib/redis.ts';

const database = testDatabase();
const queue = createJobQueue(
  createRedis({ url: env.UPSTASH_REDIS_REST_URL ?? '', token: env.UPSTASH_REDIS_REST_TOKEN ?? '' }),
);
const agents: RunningAgent[] = [];
let edge: Awaited<ReturnType<typeof startEdgeServer>>;
let ownerToken: string;
let orgId: string;
let receiverUrl: string;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
const receiver = createServer(async (request, response) => {
  let body = '';
  for await (const part of request) body += part;
  received.push({ headers: request.headers, body });
  response.writeHead(request.url === '/fail' ? 500 : 204).end();
});

const waitFor = async <T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** A deployment with no worker yet: its jobs wait in the queue. */
async function deploy() {
  const created = await call('POST', '/api/deployments', {
    token: ownerToken,
    body: { model: 'llama-3.1-8b-instruct' },
  });
  return { id: created.body.id as string, key: created.body.deployment_key.key as string };
}

async function deployWithAgent(tokenDelayMs: number) {
  const deployed = await deploy();
  const replica = await createReplica(database.db, orgId, deployed.id);
  agents.push(
    startAgent({ edgeUrl: edge.url, token: replica.token, replicaId: replica.replicaId, tokenDelayMs }),
  );
  return deployed;
}

const post = (key: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${edge.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const job = async (key: string, id: string) =>
  (await fetch(`${edge.url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } })).json();

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  edge = await startEdgeServer({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }, { publicUrlIsSelf: true });
  const owner = await signUp('async-jobs');
  ownerToken = owner.token;
  await addFunds(ownerToken, 100);
  orgId = (await call('GET', '/api/auth/me', { token: owner.token })).body.org_id;
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop('SIGKILL')));
  await edge?.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await database.close();
});

describe('async jobs and webhooks', () => {
  it('accepts a job with a webhook (202), runs it, and delivers a Standard Webhooks signed event', async () => {
    const { key } = await deployWithAgent(5);
    const accepted = await post(key, {
      model: 'm',
      messages: [{ role: 'user', content: 'async hello' }],
      webhook: `${receiverUrl}/hook`,
    });
    expect(accepted.status).toBe(202);
    const { id, object, status } = await accepted.json();
    expect({ object, status }).toEqual({ object: 'job', status: 'queued' });
    expect(accepted.headers.get('location')).toBe(`/v1/jobs/${id}`);

    const done = await waitFor(async () => {
      const current = await job(key, id);
      return current.status === 'succeeded' ? current : undefined;
    });
    expect(done.result.choices[0].message.content).toContain('You said: "async hello"');
    expect(done.gpu_seconds).toBeGreaterThan(0);
    expect(done.cost_usd).toBeGreaterThan(0);

    const delivery = await waitFor(() => received.find((entry) => entry.body.includes(id)));
    const secret = (await call('GET', '/api/org/webhook-secret', { token: ownerToken })).body.secret;
    expect(secret).toMatch(/^whsec_/);
    const event = new Webhook(secret).verify(delivery.body, {
      'webhook-id': String(delivery.headers['webhook-id']),
      'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
      'webhook-signature': String(delivery.headers['webhook-signature']),
    }) as { type: string; data: { id: string; status: string } };
    expect(event.type).toBe('job.succeeded');
    expect(event.data).toMatchObject({ id, status: 'succeeded' });
    expect(() =>
      new Webhook(secret).verify(`${delivery.body} `, delivery.headers as Record<string, string>),
    ).toThrow();
  });

  it('signs with the old and the new secret for a day after a rotation, so receivers switch without a gap', async () => {
    const { key } = await deployWithAgent(5);
    const before = (await call('GET', '/api/org/webhook-secret', { token: ownerToken })).body.secret;
    const rotated = await call('POST', '/api/org/webhook-secret/rotate', { token: ownerToken });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(before);
    const graceHours = (Date.parse(rotated.body.previous_secret_expires_at) - Date.now()) / 3_600_000;
    expect(graceHours).toBeGreaterThan(23.9);
    expect(graceHours).toBeLessThanOrEqual(24);
    const shown = (await call('GET', '/api/org/webhook-secret', { token: ownerToken })).body;
    expect(shown).toMatchObject({
      secret: rotated.body.secret,
      previous_secret_expires_at: rotated.body.previous_secret_expires_at,
    });

    const accepted = await post(key, {
      model: 'm',
      messages: [{ role: 'user', content: 'after rotation' }],
      webhook: `${receiverUrl}/hook`,
    });
    const { id } = await accepted.json();
    const delivery = await waitFor(() => received.find((entry) => entry.body.includes(id)));
    const headers = {
      'webhook-id': String(delivery.headers['webhook-id']),
      'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
      'webhook-signature': String(delivery.headers['webhook-signature']),
    };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [before, rotated.body.secret]) {
      expect((new Webhook(secret).verify(delivery.body, headers) as { data: { id: string } }).data.id).toBe(
        id,
      );
    }
    const audit = await call('GET', '/api/audit', { token: ownerToken });
    expect(audit.body.data.map((entry: { action: string }) => entry.action)).toContain(
      'org.webhook_secret.rotate',
    );
  });

  it('runs with Prefer: respond-async and no webhook, followed by polling', async () => {
    const { key } = await deployWithAgent(5);
    const accepted = await post(
      key,
      { model: 'm', messages: [{ role: 'user', content: 'poll me' }] },
      { prefer: 'respond-async' },
    );
    expect(accepted.status).toBe(202);
    const { id } = await accepted.json();
    const done = await waitFor(async () => {
      const current = await job(key, id);
      return current.status === 'succeeded' ? current : undefined;
    });
    expect(done.webhook).toBeNull();

    // The org's recent async jobs list it, with its cost, and leaves the result to GET /v1/jobs/{id}.
    const listed = await call('GET', '/api/jobs?limit=100', { token: ownerToken });
    expect(listed.status).toBe(200);
    const entry = listed.body.data.find((row: { id: string }) => row.id === id);
    expect(entry).toMatchObject({ status: 'succeeded', kind: 'chat.completion', result: null });
    expect(entry.cost_usd).toBeGreaterThanOrEqual(0);
  });

  it('answers a retry with the same Idempotency-Key with the first job as it stands, and refuses the key for another request', async () => {
    const { key } = await deployWithAgent(5);
    const body = { model: 'm', messages: [{ role: 'user', content: 'once only' }] };
    const headers = { prefer: 'respond-async', 'idempotency-key': 'nightly-report-1' };
    const first = await (await post(key, body, headers)).json();
    await waitFor(async () => ((await job(key, first.id)).status === 'succeeded' ? true : undefined));

    const retried = await post(key, body, headers);
    expect(retried.status).toBe(202);
    expect(await retried.json()).toEqual({ id: first.id, object: 'job', status: 'succeeded' });

    const other = await post(
      key,
      { ...body, messages: [{ role: 'user', content: 'something else' }] },
      headers,
    );
    expect(other.status).toBe(409);
    expect(other.headers.get('x-should-retry')).toBe('false');
    expect((await other.json()).error).toMatchObject({ code: 'conflict', param: 'idempotency-key' });
  });

  it('queues a job its first request recorded but never queued when the request is retried', async () => {
    const { id: endpointId, key } = await deployWithAgent(5);
    const body = { model: 'm', messages: [{ role: 'user', content: 'stranded' }] };
    const jobId = newId('job');
    // What a request that died between recording the job and queuing it leaves behind.
    await database.db.insert(jobs).values({
      id: jobId,
      orgId,
      endpointId,
      kind: 'chat.completion',
      input: body,
      idempotencyKey: 'stranded-1',
      requestFingerprint: await requestFingerprint('chat.completion', body),
      deadlineAt: new Date(Date.now() + 600_000),
    });
    const retried = await post(key, body, { prefer: 'respond-async', 'idempotency-key': 'stranded-1' });
    expect(retried.status).toBe(202);
    expect((await retried.json()).id).toBe(jobId);
    const done = await waitFor(async () => {
      const current = await job(key, jobId);
      return current.status === 'succeeded' ? current : undefined;
    });
    expect(done.result.choices[0].message.content).toContain('You said: "stranded"');
  });

  it('keeps an async job whose enqueue reply was lost, and its retry finds it running, not failed', async () => {
    const { key } = await deployWithAgent(5);
    // Redis reached through a proxy that runs this job's enqueue but loses the replies, to the
    // client's try and to its retry: the job is queued, the request answers 503.
    let lostReplies = 0;
    const redis = await startLossyProxy(env.UPSTASH_REDIS_REST_URL ?? '', ({ body, status }) => {
      if (!body.includes('lost-reply-1') || status !== 200 || lostReplies >= 2) return false;
      lostReplies++;
      return true;
    });
    const flaky = await startEdgeServer({ UPSTASH_REDIS_REST_URL: redis.url });
    try {
      const body = { model: 'm', messages: [{ role: 'user', content: 'lost reply' }] };
      const headers = {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        prefer: 'respond-async',
        'idempotency-key': 'lost-reply-1',
      };
      const first = await fetch(`${flaky.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      expect(first.status).toBe(503);
      expect(lostReplies).toBe(2);
      const retried = await post(key, body, { prefer: 'respond-async', 'idempotency-key': 'lost-reply-1' });
      expect(retried.status).toBe(202);
      const { id, status } = await retried.json();
      expect(status).not.toBe('failed');
      const done = await waitFor(async () => {
        const current = await job(key, id);
        return current.status === 'succeeded' ? current : undefined;
      });
      expect(done.result.choices[0].message.content).toContain('You said: "lost reply"');
    } finally {
      await flaky.close();
      await redis.close();
    }
  });

  it('announces an async job failed for losing its workers as soon as a poll fails it, not at its deadline', async () => {
    const { id: endpointId, key } = await deploy();
    const accepted = await post(key, {
      model: 'm',
      messages: [{ role: 'user', content: 'crashes every worker' }],
      webhook: `${receiverUrl}/poison`,
    });
    const { id } = await accepted.json();
    // Three workers took it and vanished (their leases lapsed), long before its 10-minute deadline.
    let at = Date.now() - 60_000;
    for (let lost = 0; lost < MAX_LOST_LEASES; lost++) {
      expect((await queue.take(endpointId, `rep_gone_${lost}`, 1, 1_000, at)).jobs).toHaveLength(1);
      at += 2_000;
    }
    // The next worker's poll fails it; its webhook and its record follow without anyone asking.
    const replica = await createReplica(database.db, orgId, endpointId);
    agents.push(startAgent({ edgeUrl: edge.url, token: replica.token, replicaId: replica.replicaId }));
    const delivery = await waitFor(() => received.find((entry) => entry.body.includes(id)));
    expect(JSON.parse(delivery.body)).toMatchObject({ type: 'job.failed', data: { id, status: 'failed' } });
    const [row] = await database.db.select().from(jobs).where(eq(jobs.id, id));
    expect(row?.state).toBe('failed');
  });

  it('prices a job at the replica that ran it (a fallback GPU type has its own price), sync and async', async () => {
    const { id: endpointId, key } = await deploy();
    const replica = await createReplica(database.db, orgId, endpointId);
    // This replica got a pricier GPU than the deployment's first choice.
    const replicaPrice = 7_200_000;
    await database.db
      .update(replicas)
      .set({ pricePerHourMicroUsd: replicaPrice })
      .where(eq(replicas.id, replica.replicaId));
    agents.push(
      startAgent({ edgeUrl: edge.url, token: replica.token, replicaId: replica.replicaId, tokenDelayMs: 20 }),
    );
    const expected = (gpuSeconds: number) => Math.round((gpuSeconds * replicaPrice) / 3600) / 1_000_000;
    const sync = await post(key, { model: 'm', messages: [{ role: 'user', content: 'what does it cost' }] });
    expect(sync.status).toBe(200);
    const gpuSeconds = Number(sync.headers.get('x-gpu-seconds'));
    expect(gpuSeconds).toBeGreaterThan(0);
    expect(Number(sync.headers.get('x-cost-usd'))).toBeCloseTo(expected(gpuSeconds), 6);
    const accepted = await post(key, {
      model: 'm',
      messages: [{ role: 'user', content: 'and later' }],
      webhook: `${receiverUrl}/priced`,
    });
    const { id } = await accepted.json();
    const done = await waitFor(async () => {
      const current = await job(key, id);
      return current.status === 'succeeded' ? current : undefined;
    });
    expect(done.cost_usd).toBeCloseTo(expected(done.gpu_seconds), 6);
  });

  it('cancels a running job, and announces it', async () => {
    const { key } = await deployWithAgent(300);
    const accepted = await post(key, {
      model: 'm',
      messages: [{ role: 'user', content: 'a long one to cancel please' }],
      webhook: `${receiverUrl}/hook`,
      webhook_events: ['job.cancelled'],
    });
    const { id } = await accepted.json();
    await waitFor(async () => ((await job(key, id)).status === 'running' ? true : undefined));
    const cancelled = await fetch(`${edge.url}/v1/jobs/${id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect((await cancelled.json()).status).toBe('cancelled');
    const delivery = await waitFor(() => received.find((entry) => entry.body.includes(id)));
    expect(JSON.parse(delivery.body).type).toBe('job.cancelled');
    const again = await fetch(`${edge.url}/v1/jobs/${id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect((await again.json()).status).toBe('cancelled');
  });

  it('records each failed delivery attempt, to be retried', async () => {
    const { key } = await deployWithAgent(5);
    const accepted = await post(key, {
      model: 'm',
      messages: [{ role: 'user', content: 'hook fails' }],
      webhook: `${receiverUrl}/fail`,
    });
    const { id } = await accepted.json();
    await waitFor(() => received.find((entry) => entry.body.includes(id)));
    const rows = await waitFor(async () => {
      const result = await database.db.execute(
        `select d.status, d.attempts, a.status_code from webhook_deliveries d join webhook_attempts a on a.delivery_id = d.id where d.job_id = '${id}'`,
      );
      return result.rows.length > 0 ? result.rows : undefined;
    });
    expect(rows[0]).toMatchObject({ status: 'pending', attempts: 1, status_code: 500 });

    const listed = await call('GET', `/api/webhook-deliveries?job_id=${id}`, { token: ownerToken });
    expect(listed.body.data).toHaveLength(1);
    const [delivery] = listed.body.data;
    expect(delivery).toMatchObject({ job_id: id, event: 'job.succeeded', url: `${receiverUrl}/fail` });
    expect(delivery.attempts[0]).toMatchObject({ status_code: 500, error: null });
    const before = received.filter((entry) => entry.body.includes(id)).length;
    const replayed = await call('POST', `/api/webhook-deliveries/${delivery.id}/replay`, {
      token: ownerToken,
    });
    expect(replayed.status).toBe(202);
    expect(replayed.body.status).toBe('pending');
    await waitFor(() => received.filter((entry) => entry.body.includes(id)).length > before);
  });

  it('refuses webhooks aimed at private addresses where that is not allowed, recording nothing', async () => {
    const strict = await startEdgeServer();
    try {
      const created = await call('POST', '/api/deployments', {
        token: ownerToken,
        body: { model: 'llama-3.1-8b-instruct' },
      });
      const client = new OpenAI({
        baseURL: `${strict.url}/v1`,
        apiKey: created.body.deployment_key.key,
        maxRetries: 0,
      });
      for (const webhook of [
        'https://169.254.169.254/latest',
        'https://localhost/hook',
        'http://hooks.example.com/x',
      ]) {
        const error = await client.chat.completions
          .create({ model: 'm', messages: [{ role: 'user', content: 'x' }], webhook } as never)
          .catch((thrown: unknown) => thrown);
        expect(error).toBeInstanceOf(OpenAI.BadRequestError);
        expect((error as InstanceType<typeof OpenAI.APIError>).param).toBe('webhook');
      }
      const count = await database.db.execute(
        `select count(*)::int as n from jobs where endpoint_id = '${created.body.id}'`,
      );
      expect(count.rows[0]).toEqual({ n: 0 });
    } finally {
      await strict.close();
    }
  });
});
