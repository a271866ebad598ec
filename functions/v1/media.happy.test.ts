import { inflateSync } from 'node:zlib';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../gpu-workers/engines/dev/encode.ts';
import { testDatabase } from '../../tests/harness/db.ts';
import { call, env, signUp } from '../../tests/harness/edge.ts';
import { startLossyProxy } from '../../tests/harness/lossy-proxy.ts';
import { payloadsBucket } from '../../tests/harness/payloads.ts';
import { addFunds } from '../../tests/harness/stripe.ts';
import {
  createReplica,
  type RunningAgent,
  startAgent,
  startEdgeServer,
} from '../../tests/harness/workers.ts';

const database = testDatabase();
let edge: Awaited<ReturnType<typeof startEdgeServer>>;
const agents: RunningAgent[] = [];
let token: string;
let whisper: OpenAI;
let orgId: string;
let speech: OpenAI;
let images: OpenAI;
/** A whisper deployment with no worker: whatever reached its queue would stay there. */
let idle: { client: OpenAI; id: string };

const clientFor = (key: string) => new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: key, maxRetries: 0 });

/** A deployment of a catalog model with one development-engine worker, and a client bound to it. */
async function deploy(model: string, orgId: string) {
  const created = await call('POST', '/api/deployments', { token, body: { model } });
  expect(created.status).toBe(201);
  const replica = await createReplica(database.db, orgId, created.body.id);
  agents.push(startAgent({ edgeUrl: edge.url, token: replica.token, replicaId: replica.replicaId }));
  return clientFor(created.body.deployment_key.key);
}

const seconds = (duration: number) => encodeWav(new Int16Array(Math.round(16_000 * duration)), 16_000);
const wavFile = (duration: number, name = 'meeting.wav') =>
  toFile(Buffer.from(seconds(duration)), name, { type: 'audio/wav' });

/** An async job once it has ended. */
async function waitForJob(key: string, id: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${edge.url}/v1/jobs/${id}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const job = await response.json();
    if (['succeeded', 'failed', 'cancelled'].includes(job.status) || Date.now() > deadline) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  edge = await startEdgeServer({}, { payloads: true, publicUrlIsSelf: true });
  const owner = await signUp('media');
  token = owner.token;
  await addFunds(token, 100);
  orgId = (await call('GET', '/api/auth/me', { token })).body.org_id;
  [whisper, speech, images] = await Promise.all([
    deploy('whisper-large-v3', orgId),
    deploy('xtts-v2', orgId),
    deploy('sdxl', orgId),
  ]);
  const idleDeployment = await call('POST', '/api/deployments', {
    token,
    body: { model: 'whisper-large-v3', name: 'whisper-idle' },
  });
  idle = { client: clientFor(idleDeployment.body.deployment_key.key), id: idleDeployment.body.id };
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await edge?.close();
  await database.close();
});

describe('audio transcription: multipart upload, stored in R2, fetched by the worker', () => {
  it('transcribes an uploaded WAV with the openai SDK', async () => {
    const { data, response } = await whisper.audio.transcriptions
      .create({ file: await wavFile(12), model: 'whisper-1' })
      .withResponse();
    expect(data.text).toBe(
      '[development engine] part 1 of 3 of meeting.wav. [development engine] part 2 of 3 of meeting.wav. [development engine] part 3 of 3 of meeting.wav.',
    );
    expect(response.headers.get('x-job-id')).toMatch(/^job_/);
    expect(Number(response.headers.get('x-gpu-seconds'))).toBeGreaterThan(0);
  });

  it('gives verbose_json with segments and words, and srt and vtt subtitles', async () => {
    const verbose = await whisper.audio.transcriptions.create({
      file: await wavFile(7),
      model: 'whisper-1',
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    });
    expect(verbose.duration).toBe(7);
    expect(verbose.language).toBe('english');
    expect(verbose.segments?.map((segment) => [segment.start, segment.end])).toEqual([
      [0, 5],
      [5, 7],
    ]);
    expect(verbose.words?.[0]).toMatchObject({ word: '[development', start: 0 });

    const srt = await whisper.audio.transcriptions.create({
      file: await wavFile(7),
      model: 'whisper-1',
      response_format: 'srt',
    });
    expect(srt).toBe(
      '1\n00:00:00,000 --> 00:00:05,000\n[development engine] part 1 of 2 of meeting.wav.\n\n2\n00:00:05,000 --> 00:00:07,000\n[development engine] part 2 of 2 of meeting.wav.\n',
    );
    const vtt = await whisper.audio.transcriptions.create({
      file: await wavFile(3),
      model: 'whisper-1',
      response_format: 'vtt',
    });
    expect(vtt).toBe(
      'WEBVTT\n\n00:00:00.000 --> 00:00:03.000\n[development engine] part 1 of 1 of meeting.wav.\n',
    );
  });

  it('translates into English', async () => {
    const translation = await whisper.audio.translations.create({
      file: await wavFile(2, 'interview.wav'),
      model: 'whisper-1',
      response_format: 'verbose_json',
    });
    expect(translation).toMatchObject({ task: 'translate', language: 'english' });
  });

  it('refuses a file that is not audio, and an upload over 25 MB, queuing nothing', async () => {
    const whisper = idle.client;
    const notAudio = await whisper.audio.transcriptions
      .create({ file: await toFile(Buffer.from('%PDF-1.7 not audio'), 'report.wav'), model: 'whisper-1' })
      .catch((error: unknown) => error);
    expect(notAudio).toBeInstanceOf(OpenAI.BadRequestError);
    expect((notAudio as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('file');

    const oversize = new Uint8Array(25 * 1024 * 1024 + 1);
    oversize.set(seconds(1));
    const tooLarge = await whisper.audio.transcriptions
      .create({ file: await toFile(Buffer.from(oversize), 'long.wav'), model: 'whisper-1' })
      .catch((error: unknown) => error);
    expect(tooLarge).toBeInstanceOf(OpenAI.APIError);
    expect((tooLarge as InstanceType<typeof OpenAI.APIError>).status).toBe(413);

    const wrongField = await whisper.audio.transcriptions
      .create({ file: await wavFile(1), model: 'whisper-1', response_format: 'docx' as 'json' })
      .catch((error: unknown) => error);
    expect((wrongField as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('response_format');

    const words = await whisper.audio.transcriptions
      .create({ file: await wavFile(1), model: 'whisper-1', timestamp_granularities: ['word'] })
      .catch((error: unknown) => error);
    expect((words as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('timestamp_granularities');

    // Form fields get the check JSON bodies get: no store keeps a NUL (async, Postgres would refuse).
    const nul = await whisper.audio.transcriptions
      .create(
        { file: await wavFile(1), model: 'whisper-1', prompt: 'a\u0000b' },
        { headers: { prefer: 'respond-async' } },
      )
      .catch((error: unknown) => error);
    expect(nul).toBeInstanceOf(OpenAI.BadRequestError);
    expect((nul as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('prompt');

    const metrics = await call('GET', `/api/deployments/${idle.id}/metrics`, { token });
    expect(metrics.body.queue).toEqual({ queued: 0, running: 0 });
  });

  it('keeps no upload of a request refused after it was stored (a bad header)', async () => {
    const bucket = (await payloadsBucket()) as {
      list(options: { prefix: string }): Promise<{ objects: unknown[] }>;
    };
    const stored = async () => (await bucket.list({ prefix: 'jobs/' })).objects.length;
    const before = await stored();
    const refused = await idle.client.audio.transcriptions
      .create({ file: await wavFile(1), model: 'whisper-1' }, { headers: { 'Cancel-After': 'soon' } })
      .catch((error: unknown) => error);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('cancel-after');
    expect(await stored()).toBe(before);
  });

  it('transcribes a file whose enqueue reply was lost, when the client retries with its Idempotency-Key', async () => {
    // A deployment whose worker comes later: the job waits in the queue with its upload.
    const created = await call('POST', '/api/deployments', {
      token,
      body: { model: 'whisper-large-v3', name: 'whisper-lost-reply' },
    });
    const key = created.body.deployment_key.key as string;
    // Redis behind a proxy that runs this request's enqueue but loses its replies (the try and the
    // client's own retry): the job is queued, the request answers 503, and the upload must stay.
    let lostReplies = 0;
    const redis = await startLossyProxy(env.UPSTASH_REDIS_REST_URL ?? '', ({ body, status }) => {
      if (!body.includes('audio-lost-reply-1') || status !== 200 || lostReplies >= 2) return false;
      lostReplies++;
      return true;
    });
    const flaky = await startEdgeServer({ UPSTASH_REDIS_REST_URL: redis.url }, { payloads: true });
    try {
      const headers = { 'Idempotency-Key': 'audio-lost-reply-1', Prefer: 'respond-async' };
      const viaFlaky = new OpenAI({ baseURL: `${flaky.url}/v1`, apiKey: key, maxRetries: 0 });
      const first = await viaFlaky.audio.transcriptions
        .create({ file: await wavFile(4, 'lost.wav'), model: 'whisper-1' }, { headers })
        .catch((error: unknown) => error);
      expect((first as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
      expect(lostReplies).toBe(2);
      const retried = await clientFor(key)
        .audio.transcriptions.create({ file: await wavFile(4, 'lost.wav'), model: 'whisper-1' }, { headers })
        .withResponse();
      expect(retried.response.status).toBe(202);
      const { id } = retried.data as unknown as { id: string };
      const replica = await createReplica(database.db, orgId, created.body.id);
      agents.push(startAgent({ edgeUrl: edge.url, token: replica.token, replicaId: replica.replicaId }));
      const done = await waitForJob(key, id);
      expect(done.status).toBe('succeeded');
      expect(done.result.text).toContain('lost.wav');
    } finally {
      await flaky.close();
      await redis.close();
    }
  });

  it('refuses a transcription sent to a model that does not transcribe', async () => {
    const error = await images.audio.transcriptions
      .create({ file: await wavFile(1), model: 'sdxl' })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain(
      'does not serve audio transcriptions',
    );
  });
});

describe('speech', () => {
  it('answers with the audio itself', async () => {
    const response = await speech.audio.speech.create({
      model: 'tts-1',
      voice: 'alloy',
      input: 'Hello from the speech endpoint',
      response_format: 'wav',
    });
    expect(response.headers.get('content-type')).toBe('audio/wav');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.subarray(0, 4).toString()).toBe('RIFF');
    expect(bytes.subarray(8, 12).toString()).toBe('WAVE');
    // Five words of 0.25 s (plus gaps) at 24 kHz, 16-bit.
    expect(bytes.length).toBe(44 + 5 * (6000 + 1200) * 2);
    expect(Number(response.headers.get('x-gpu-seconds'))).toBeGreaterThan(0);
  });

  it('reports a format the engine cannot produce as the caller’s error', async () => {
    const error = await speech.audio.speech
      .create({ model: 'tts-1', voice: 'alloy', input: 'mp3 please' })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('response_format "wav"');
  });

  it('refuses bad fields before queuing', async () => {
    const error = await speech.audio.speech
      .create({ model: 'tts-1', voice: 'alloy', input: 'fast', speed: 9 })
      .catch((thrown: unknown) => thrown);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('speed');
  });
});

function pngSize(png: Buffer) {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  // The pixel data inflates to one filter byte plus RGB per pixel, per row.
  const idatLength = png.readUInt32BE(33);
  const pixels = inflateSync(png.subarray(41, 41 + idatLength));
  expect(pixels.length).toBe(height * (width * 3 + 1));
  return { width, height };
}

describe('image generation', () => {
  it('inlines PNGs with b64_json', async () => {
    const result = await images.images.generate({
      model: 'sdxl',
      prompt: 'a lighthouse at dusk',
      size: '512x256' as '1024x1024',
      n: 2,
      response_format: 'b64_json',
    });
    expect(result.data).toHaveLength(2);
    const [first, second] = (result.data ?? []).map((image) => Buffer.from(image.b64_json ?? '', 'base64'));
    expect(pngSize(first as Buffer)).toEqual({ width: 512, height: 256 });
    expect(first?.equals(second as Buffer)).toBe(false);
    expect(result.data?.[0]?.revised_prompt).toBe('[development engine] a lighthouse at dusk');
  });

  it('links PNGs with url: the signed link downloads, a forged one is refused', async () => {
    const result = await images.images.generate({ model: 'sdxl', prompt: 'a fox', size: '256x256' });
    const url = result.data?.[0]?.url ?? '';
    expect(url).toMatch(/\/v1\/files\/job_[^/]+\/image-0\.png\?expires=\d+&signature=[0-9a-f]{64}$/);
    const download = await fetch(url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(pngSize(Buffer.from(await download.arrayBuffer()))).toEqual({ width: 256, height: 256 });

    const forged = await fetch(
      url.replace(/signature=[0-9a-f]/, (match) =>
        match.endsWith('0') ? `${match.slice(0, -1)}1` : `${match.slice(0, -1)}0`,
      ),
    );
    expect(forged.status).toBe(403);
    expect((await forged.json()).error.type).toBe('permission_error');
    const extended = await fetch(url.replace(/expires=(\d+)/, (_, at) => `expires=${Number(at) + 3600}`));
    expect(extended.status).toBe(403);
  });

  it('runs asynchronously: the job result holds links', async () => {
    const accepted = await fetch(`${edge.url}/v1/images/generations`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${images.apiKey}`,
        'content-type': 'application/json',
        prefer: 'respond-async',
      },
      body: JSON.stringify({ model: 'sdxl', prompt: 'later', size: '256x256' }),
    });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    let job: { status: string; result: { data: { url: string }[] } | null } = {
      status: 'queued',
      result: null,
    };
    for (let i = 0; i < 100 && job.status !== 'succeeded'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = (await (
        await fetch(`${edge.url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${images.apiKey}` } })
      ).json()) as typeof job;
    }
    expect(job.status).toBe('succeeded');
    const link = job.result?.data[0]?.url ?? '';
    expect((await fetch(link)).headers.get('content-type')).toBe('image/png');
  });

  it('refuses sizes the model cannot draw and unknown fields', async () => {
    const size = await images.images
      .generate({ model: 'sdxl', prompt: 'x', size: '1000x1000' as '1024x1024' })
      .catch((thrown: unknown) => thrown);
    expect((size as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('size');
    const unknown = await images.images
      .generate({ model: 'sdxl', prompt: 'x', background: 'transparent' })
      .catch((thrown: unknown) => thrown);
    expect((unknown as InstanceType<typeof OpenAI.BadRequestError>).message).toContain(
      'Unrecognized request argument supplied: background',
    );
  });
});
