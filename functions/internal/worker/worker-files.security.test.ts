import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../../gpu-workers/engines/dev/encode.ts';
import { testDatabase } from '../../../tests/harness/db.ts';
import { app, call, env, signUp } from '../../../tests/harness/edge.ts';
import { payloadsBucket } from '../../../tests/harness/payloads.ts';
import { addFunds } from '../../../tests/harness/stripe.ts';
import { createReplica } from '../../../tests/harness/workers.ts';
import { signOutputLink } from '../../core/payloads/links.ts';

const database = testDatabase();
let bindings: Record<string, unknown>;
let jobId: string;
let holder: string;
let other: string;
const audio = encodeWav(new Int16Array(16_000), 16_000);

const request = (path: string, init: RequestInit & { token?: string } = {}) =>
  app.request(
    path,
    {
      ...init,
      headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers },
    },
    bindings,
  );

beforeAll(async () => {
  bindings = { ...env, PAYLOADS: await payloadsBucket() };
  const owner = await signUp('worker-files');
  await addFunds(owner.token, 100);
  const created = await call('POST', '/api/deployments', {
    token: owner.token,
    body: { model: 'whisper-large-v3' },
  });
  const orgId = (await call('GET', '/api/auth/me', { token: owner.token })).body.org_id;
  const form = new FormData();
  form.set('file', new File([audio], 'a.wav', { type: 'audio/wav' }));
  form.set('model', 'whisper');
  const accepted = await request('/v1/audio/transcriptions', {
    method: 'POST',
    body: form,
    token: created.body.deployment_key.key,
    headers: { prefer: 'respond-async' },
  });
  expect(accepted.status).toBe(202);
  jobId = ((await accepted.json()) as { id: string }).id;
  holder = (await createReplica(database.db, orgId, created.body.id)).token;
  other = (await createReplica(database.db, orgId, created.body.id)).token;
  const taken = await request('/internal/worker/jobs/take', {
    method: 'POST',
    token: holder,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ max: 1, wait_ms: 0 }),
  });
  const { jobs } = (await taken.json()) as { jobs: { id: string; input: { file: { bytes: number } } }[] };
  expect(jobs.map((job) => job.id)).toEqual([jobId]);
  // The queue carries a reference to the upload, never its bytes.
  expect(jobs[0]?.input.file).toEqual({ name: 'a.wav', bytes: audio.length, content_type: 'audio/wav' });
});

afterAll(() => database.close());

const png = (token: string, name = 'image-0.png', type = 'image/png') =>
  request(`/internal/worker/jobs/${jobId}/outputs/${name}`, {
    method: 'PUT',
    token,
    headers: { 'content-type': type },
    body: new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
  });

describe('job files through the worker API', () => {
  it('hands the uploaded audio to the worker holding the lease, and to no other', async () => {
    const mine = await request(`/internal/worker/jobs/${jobId}/input`, { token: holder });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toBe('audio/wav');
    expect(new Uint8Array(await mine.arrayBuffer())).toEqual(audio);

    const theirs = await request(`/internal/worker/jobs/${jobId}/input`, { token: other });
    expect(theirs.status).toBe(409);
    expect((await request(`/internal/worker/jobs/${jobId}/input`)).status).toBe(401);
  });

  it('stores outputs only from the lease holder, under safe names and media types', async () => {
    expect((await png(holder)).status).toBe(200);
    expect((await png(other)).status).toBe(409);
    expect((await png(holder, '..%2Fescape.png')).status).toBe(400);
    expect((await png(holder, 'notes.txt')).status).toBe(400);
    expect((await png(holder, 'image-1.png', 'text/html')).status).toBe(415);
  });

  it('serves a stored output with the type its name says, never the type the worker claimed', async () => {
    const svg = await request(`/internal/worker/jobs/${jobId}/outputs/image-2.png`, {
      method: 'PUT',
      token: holder,
      headers: { 'content-type': 'image/svg+xml' },
      body: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>',
    });
    expect(svg.status).toBe(200);
    const link = new URL(
      await signOutputLink(
        env.AUTH_SECRET ?? '',
        env.PUBLIC_URL ?? '',
        { jobId, name: 'image-2.png' },
        4_000_000_000,
      ),
    );
    const served = await request(`${link.pathname}${link.search}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
