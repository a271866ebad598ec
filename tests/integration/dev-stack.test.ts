import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devStackEnv, startDevStack, stopDevStack } from '../../dev/stack.ts';
import { encodeWav } from '../../gpu-workers/engines/dev/encode.ts';

/** `npm run dev` itself, as a developer runs it: boot, serve, refuse a second copy, stop, restart. */
describe('npm run dev', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'aicloud-dev-'));
  let env: NodeJS.ProcessEnv;
  let edge: string;
  let postgresPort: number;
  let mailOutbox: string;
  let accessToken = '';

  const start = () => startDevStack(env);
  const stop = stopDevStack;

  beforeAll(async () => {
    const stack = await devStackEnv(dataDir);
    env = stack.env;
    edge = stack.edge;
    mailOutbox = stack.mailOutbox;
    postgresPort = stack.ports.postgres;
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves health, the OpenAPI document, the web app and JSON 404s; keeps data across restarts', async () => {
    const first = start();
    await first.ready;
    try {
      const health = await fetch(`${edge}/health`);
      expect(health.status).toBe(200);
      expect((await health.json()).status).toBe('ok');

      const openapi = await fetch(`${edge}/openapi.json`);
      expect((await openapi.json()).openapi).toBe('3.1.0');

      const page = await fetch(`${edge}/`);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toContain('<div id="root">');

      const docs = await fetch(`${edge}/docs`);
      expect(await docs.text()).toContain('SwaggerUIBundle');
      expect((await fetch(`${edge}/docs/swagger-ui-bundle.js`)).status).toBe(200);

      // The account flow in workerd: Argon2id, the Resend-compatible outbox, JWT sessions.
      const email = `dev-${Date.now()}@example.com`;
      const post = (path: string, body: unknown) =>
        fetch(`${edge}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect(
        (await post('/api/auth/register', { email, password: 'correct horse battery staple' })).status,
      ).toBe(202);
      // Mail leaves after the response (waitUntil), so the outbox is polled.
      let token: string | undefined;
      for (let attempt = 0; attempt < 50 && !token; attempt++) {
        const mail = await (await fetch(`${mailOutbox}/outbox?to=${encodeURIComponent(email)}`)).json();
        token = /verify-email\?token=([\w-]+)/.exec(mail.data[0]?.text ?? '')?.[1];
        if (!token) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(
        (await post('/api/auth/verify-email', { token, password: 'correct horse battery staple' })).status,
      ).toBe(200);
      const login = await post('/api/auth/login', { email, password: 'correct horse battery staple' });
      expect(login.status).toBe(200);
      accessToken = (await login.json()).access_token;
      const me = await fetch(`${edge}/api/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect((await me.clone().json()).user).toMatchObject({ email, email_verified: true });
      expect(await (await fetch(`${mailOutbox}/`)).text()).toContain('Verify your AI Cloud email address');

      await mediaRoundTrip(edge, accessToken);

      const missing = await fetch(`${edge}/v1/does-not-exist`);
      expect(missing.status).toBe(404);
      expect((await missing.json()).error.type).toBe('not_found_error');

      const second = start();
      await expect(second.ready).rejects.toThrow(/is already in use/);

      const db = new pg.Client({
        connectionString: `postgres://postgres:postgres@127.0.0.1:${postgresPort}/aicloud`,
      });
      await db.connect();
      await db.query(`insert into orgs (id, name, slug) values ('org_persisted', 'Persisted', 'persisted')`);
      const { rows } = await db.query('select count(*)::int as n from models');
      expect(rows[0].n).toBeGreaterThanOrEqual(8);
      await db.end();
    } finally {
      expect(await stop(first.child)).toBe(0);
    }
    expect(first.output()).toContain('stopped.');
    await expect(fetch(`${edge}/health`)).rejects.toThrow();

    const again = start();
    await again.ready;
    try {
      const db = new pg.Client({
        connectionString: `postgres://postgres:postgres@127.0.0.1:${postgresPort}/aicloud`,
      });
      await db.connect();
      const { rows } = await db.query(`select name from orgs where id = 'org_persisted'`);
      await db.end();
      expect(rows).toEqual([{ name: 'Persisted' }]);
      // The session signing secret persisted too: a token from before the restart still works.
      const me = await fetch(`${edge}/api/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(me.status).toBe(200);
    } finally {
      expect(await stop(again.child)).toBe(0);
    }
  });
});

/**
 * The production credit path in workerd: Checkout through the Stripe SDK (fetch client), a card paid
 * on the local checkout page, and the signed event the local Stripe delivers to the webhook route,
 * verified with Web Crypto.
 */
async function addFundsThroughCheckout(edge: string, accessToken: string) {
  const headers = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
  const started = await fetch(`${edge}/api/billing/add-funds`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ amount_cents: 2500 }),
  });
  expect(started.status).toBe(201);
  const { checkout_url } = (await started.json()) as { checkout_url: string };
  expect(await (await fetch(checkout_url)).text()).toContain('$25.00');
  const paid = await fetch(`${checkout_url}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'card=4242424242424242',
    redirect: 'manual',
  });
  expect(paid.status).toBe(303);
  let balance = 0;
  for (let attempt = 0; attempt < 100 && balance !== 25; attempt++) {
    const read = await fetch(`${edge}/api/billing/balance`, { headers });
    balance = ((await read.json()) as { balance_usd: number }).balance_usd;
    if (balance !== 25) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(balance).toBe(25);
}

/**
 * Scale to zero and back in workerd, with media: the first request to each deployment makes the
 * orchestrator (a QStash nudge) start a worker through the local compute daemon; a multipart upload
 * is staged in wrangler's local R2 bucket and fetched by that worker; a generated image comes back
 * inline and as a signed link.
 */
async function mediaRoundTrip(edge: string, accessToken: string) {
  await addFundsThroughCheckout(edge, accessToken);
  const deploy = async (model: string) => {
    const created = await fetch(`${edge}/api/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, min_replicas: 0 }),
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; deployment_key: { key: string } };
    return new OpenAI({ baseURL: `${edge}/v1`, apiKey: body.deployment_key.key, maxRetries: 0 });
  };
  const [whisper, sdxl] = [await deploy('whisper-large-v3'), await deploy('sdxl')];
  const wav = encodeWav(new Int16Array(16_000 * 6), 16_000);
  const transcript = await whisper.audio.transcriptions.create({
    file: await toFile(Buffer.from(wav), 'standup.wav', { type: 'audio/wav' }),
    model: 'whisper-1',
    response_format: 'verbose_json',
  });
  expect(transcript.duration).toBe(6);
  expect(transcript.text).toContain('part 2 of 2 of standup.wav');

  const inline = await sdxl.images.generate({
    model: 'sdxl',
    prompt: 'a lighthouse',
    size: '256x256',
    response_format: 'b64_json',
  });
  expect(
    Buffer.from(inline.data?.[0]?.b64_json ?? '', 'base64')
      .subarray(1, 4)
      .toString(),
  ).toBe('PNG');
  const linked = await sdxl.images.generate({ model: 'sdxl', prompt: 'a lighthouse', size: '256x256' });
  const download = await fetch(linked.data?.[0]?.url ?? '');
  expect(download.headers.get('content-type')).toBe('image/png');
}
