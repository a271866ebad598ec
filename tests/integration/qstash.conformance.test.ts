import { createServer, type IncomingMessage } from 'node:http';
import { Client, Receiver } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen, readBody } from '../../dev/http.ts';
import { type QStashServer, startQStash } from '../../dev/qstash/server.ts';

const keys = { current: 'sig_current_key', next: 'sig_next_key' };

interface Delivery {
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
  at: number;
  verified: boolean;
}

describe('QStash stand-in with the real Client and Receiver', () => {
  let qstash: QStashServer;
  let client: Client;
  let destination: ReturnType<typeof createServer>;
  let baseUrl: string;
  const deliveries: Delivery[] = [];
  /** Status the destination answers per path, in order; 200 once exhausted. */
  const scripted = new Map<string, number[]>();
  const receiver = new Receiver({
    currentSigningKey: keys.current,
    nextSigningKey: keys.next,
    devMode: false,
  });

  const waitFor = async (predicate: () => boolean, timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for deliveries');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const deliveriesTo = (path: string) => deliveries.filter((delivery) => delivery.path === path);

  beforeAll(async () => {
    destination = createServer(async (request, response) => {
      const body = (await readBody(request)).toString('utf8');
      const path = request.url ?? '/';
      const verified = await receiver
        .verify({ signature: String(request.headers['upstash-signature']), body, url: `${baseUrl}${path}` })
        .catch(() => false);
      deliveries.push({ path, body, headers: request.headers, at: Date.now(), verified });
      const status = scripted.get(path)?.shift() ?? 200;
      response.writeHead(status).end(status === 200 ? 'ok' : 'try again');
    });
    baseUrl = `http://127.0.0.1:${await listen(destination, 0)}`;
    qstash = await startQStash({
      port: 0,
      token: 'qstash-token',
      currentSigningKey: keys.current,
      nextSigningKey: keys.next,
    });
    client = new Client({ baseUrl: qstash.url, token: 'qstash-token' });
  });

  afterAll(async () => {
    await qstash?.close();
    if (destination) await closeServer(destination);
  });

  it('delivers a published message with a signature the Receiver accepts over the raw body', async () => {
    const { messageId } = await client.publishJSON({
      url: `${baseUrl}/hooks/basic`,
      body: { hello: 'world' },
      headers: { 'x-tenant': 'org_1' },
    });
    expect(messageId).toMatch(/^msg_/);
    await waitFor(() => deliveriesTo('/hooks/basic').length === 1);
    const [delivery] = deliveriesTo('/hooks/basic');
    expect(delivery?.verified).toBe(true);
    expect(JSON.parse(delivery?.body ?? '')).toEqual({ hello: 'world' });
    expect(delivery?.headers['x-tenant']).toBe('org_1');
    expect(delivery?.headers['upstash-message-id']).toBe(messageId);
    expect(delivery?.headers['content-type']).toBe('application/json');
  });

  it('retries after a 500 with the requested backoff, then succeeds', async () => {
    scripted.set('/hooks/flaky', [500, 500]);
    await client.publishJSON({
      url: `${baseUrl}/hooks/flaky`,
      body: { n: 1 },
      retries: 3,
      retryDelay: '100',
    });
    await waitFor(() => deliveriesTo('/hooks/flaky').length === 3);
    const attempts = deliveriesTo('/hooks/flaky');
    expect(attempts.map((attempt) => attempt.headers['upstash-retried'])).toEqual(['0', '1', '2']);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(90);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deliveriesTo('/hooks/flaky')).toHaveLength(3);
  });

  it('gives up after the retries and lands the message in the DLQ with a failure callback', async () => {
    scripted.set('/hooks/down', [500, 500]);
    await client.publishJSON({
      url: `${baseUrl}/hooks/down`,
      body: { n: 2 },
      retries: 1,
      retryDelay: '50',
      failureCallback: `${baseUrl}/hooks/failed`,
    });
    await waitFor(() => deliveriesTo('/hooks/failed').length === 1);
    expect(deliveriesTo('/hooks/down')).toHaveLength(2);
    const callback = deliveriesTo('/hooks/failed')[0];
    expect(callback?.verified).toBe(true);
    expect(JSON.parse(callback?.body ?? '{}')).toMatchObject({ status: 500, url: `${baseUrl}/hooks/down` });
    const dlq = await client.dlq.listMessages();
    expect(dlq.messages.some((message) => message.url === `${baseUrl}/hooks/down`)).toBe(true);
  });

  it('deduplicates by id and delivers once', async () => {
    const first = await client.publishJSON({
      url: `${baseUrl}/hooks/dedup`,
      body: { n: 3 },
      deduplicationId: 'scale-ep_1',
    });
    const second = await client.publishJSON({
      url: `${baseUrl}/hooks/dedup`,
      body: { n: 3 },
      deduplicationId: 'scale-ep_1',
    });
    expect(second.messageId).toBe(first.messageId);
    expect(second.deduplicated).toBe(true);
    await waitFor(() => deliveriesTo('/hooks/dedup').length === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(deliveriesTo('/hooks/dedup')).toHaveLength(1);
  });

  it('holds a delayed message until its delay has passed', async () => {
    const publishedAt = Date.now();
    await client.publishJSON({ url: `${baseUrl}/hooks/delayed`, body: {}, delay: 1 });
    await waitFor(() => deliveriesTo('/hooks/delayed').length === 1);
    expect((deliveriesTo('/hooks/delayed')[0]?.at ?? 0) - publishedAt).toBeGreaterThanOrEqual(950);
  });

  it('creates, lists, pauses and deletes cron schedules', async () => {
    const { scheduleId } = await client.schedules.create({
      destination: `${baseUrl}/internal/reconcile`,
      cron: '* * * * *',
      scheduleId: 'reconcile-all',
    });
    expect(scheduleId).toBe('reconcile-all');
    const listed = await client.schedules.list();
    expect(listed.map((schedule) => schedule.scheduleId)).toContain('reconcile-all');
    await client.schedules.pause({ schedule: 'reconcile-all' });
    expect((await client.schedules.get('reconcile-all')).isPaused).toBe(true);
    await client.schedules.delete('reconcile-all');
    await expect(client.schedules.get('reconcile-all')).rejects.toThrow();
  });

  it('refuses a publish without the token and a malformed destination', async () => {
    const intruder = new Client({ baseUrl: qstash.url, token: 'wrong', retry: false });
    await expect(intruder.publishJSON({ url: `${baseUrl}/x`, body: {} })).rejects.toThrow(/Unauthorized/);
    const response = await fetch(`${qstash.url}/v2/publish/not-a-url`, {
      method: 'POST',
      headers: { authorization: 'Bearer qstash-token' },
    });
    expect(response.status).toBe(400);
  });

  it('signatures do not verify with another key, for another URL, or over another body', async () => {
    await client.publishJSON({ url: `${baseUrl}/hooks/sig`, body: { amount: 100 } });
    await waitFor(() => deliveriesTo('/hooks/sig').length === 1);
    const delivery = deliveriesTo('/hooks/sig')[0];
    const signature = String(delivery?.headers['upstash-signature']);
    const stranger = new Receiver({ currentSigningKey: 'other', nextSigningKey: 'other2', devMode: false });
    await expect(stranger.verify({ signature, body: delivery?.body ?? '' })).rejects.toThrow();
    await expect(receiver.verify({ signature, body: '{"amount":1000}' })).rejects.toThrow(/body hash/);
    await expect(
      receiver.verify({ signature, body: delivery?.body ?? '', url: `${baseUrl}/elsewhere` }),
    ).rejects.toThrow(/invalid subject/);
  });
});
