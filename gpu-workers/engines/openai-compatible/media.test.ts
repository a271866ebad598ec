import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryFiles } from '../../../tests/harness/job-files.ts';
import { UnsupportedJobError, type WorkerJob } from '../engine.ts';
import { createOpenAICompatibleEngine } from './index.ts';

/**
 * A model server with OpenAI's media routes, as faster-whisper-server, openedai-speech and the
 * diffusers server expose them. It records what it received so the tests can assert the exact request.
 */
let server: Server;
let baseUrl: string;
const received: { path: string; contentType: string; json?: Record<string, unknown>; form?: FormData }[] = [];
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const part of request) chunks.push(part as Buffer);
    const raw = Buffer.concat(chunks);
    const contentType = request.headers['content-type'] ?? '';
    const path = request.url ?? '';
    const asRequest = new Request('http://x', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    });
    const form = contentType.startsWith('multipart/') ? await asRequest.formData() : undefined;
    const json =
      contentType === 'application/json'
        ? (JSON.parse(raw.toString()) as Record<string, unknown>)
        : undefined;
    received.push({ path, contentType, json, form });
    const send = (status: number, body: unknown, type = 'application/json') =>
      response
        .writeHead(status, { 'content-type': type })
        .end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
    if (path === '/v1/audio/transcriptions' || path === '/v1/audio/translations') {
      return send(200, {
        task: 'transcribe',
        language: 'german',
        duration: 3.5,
        text: 'Guten Tag.',
        segments: [
          { id: 0, seek: 0, start: 0, end: 3.5, text: ' Guten Tag.', tokens: [1, 2], avg_logprob: -0.2 },
        ],
        words: [
          { word: 'Guten', start: 0, end: 1.2 },
          { word: 'Tag.', start: 1.2, end: 3.5 },
        ],
      });
    }
    if (path === '/v1/audio/speech') {
      if (json?.voice === 'nobody') return send(400, { error: { message: 'unknown voice nobody' } });
      return send(200, Buffer.from('ID3fake-mp3'), 'audio/mpeg');
    }
    if (path === '/v1/images/generations') {
      if (json?.prompt === 'broken')
        return send(200, { created: 1, data: [{ url: 'https://elsewhere/x.png' }] });
      return send(200, {
        created: 1_700_000_000,
        data: Array.from({ length: Number(json?.n ?? 1) }, () => ({ b64_json: PNG.toString('base64') })),
      });
    }
    send(404, { error: { message: 'no such route' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const engine = () => createOpenAICompatibleEngine({ baseUrl, servedModel: 'served-model' });
const job = (kind: string, input: Record<string, unknown>): WorkerJob => ({
  id: 'job_1',
  kind,
  input,
  deadline_ms: Date.now() + 60_000,
  attempt: 1,
});
const run = (work: WorkerJob, files = memoryFiles().files) =>
  engine().run(work, async () => true, new AbortController().signal, files);

describe('OpenAI-compatible adapter: transcription, speech and images', () => {
  it('uploads the job’s audio as multipart, asking for verbose_json with words', async () => {
    const audio = new Blob([Buffer.from('RIFF....WAVEdata')], { type: 'audio/wav' });
    const result = await run(
      job('audio.transcription', {
        model: 'whisper',
        task: 'transcribe',
        language: 'de',
        prompt: 'Grüße',
        file: { name: 'greeting.wav', bytes: 16, content_type: 'audio/wav' },
      }),
      memoryFiles(audio).files,
    );
    const sent = received.at(-1);
    expect(sent?.path).toBe('/v1/audio/transcriptions');
    expect(sent?.form?.get('model')).toBe('served-model');
    expect(sent?.form?.get('response_format')).toBe('verbose_json');
    expect(sent?.form?.getAll('timestamp_granularities[]')).toEqual(['segment', 'word']);
    expect(sent?.form?.get('language')).toBe('de');
    expect(sent?.form?.get('prompt')).toBe('Grüße');
    const file = sent?.form?.get('file') as File;
    expect(file.name).toBe('greeting.wav');
    expect(await file.text()).toBe('RIFF....WAVEdata');
    expect(result).toEqual({
      task: 'transcribe',
      language: 'german',
      duration: 3.5,
      text: 'Guten Tag.',
      segments: [{ id: 0, start: 0, end: 3.5, text: ' Guten Tag.' }],
      words: [
        { word: 'Guten', start: 0, end: 1.2 },
        { word: 'Tag.', start: 1.2, end: 3.5 },
      ],
    });
  });

  it('sends translations to the translations route, without a language', async () => {
    await run(
      job('audio.transcription', {
        model: 'whisper',
        task: 'translate',
        language: 'de',
        file: { name: 'a.mp3', bytes: 3, content_type: 'audio/mpeg' },
      }),
      memoryFiles(new Blob(['ID3'])).files,
    );
    expect(received.at(-1)?.path).toBe('/v1/audio/translations');
    expect(received.at(-1)?.form?.has('language')).toBe(false);
  });

  it('stores synthesized speech as the job’s output file', async () => {
    const { files, outputs } = memoryFiles();
    const result = await run(
      job('audio.speech', {
        model: 'tts',
        input: 'Hallo',
        voice: 'alloy',
        response_format: 'mp3',
        speed: 1.5,
        instructions: 'Speak warmly.',
      }),
      files,
    );
    expect(received.at(-1)?.json).toEqual({
      model: 'served-model',
      input: 'Hallo',
      voice: 'alloy',
      response_format: 'mp3',
      speed: 1.5,
      instructions: 'Speak warmly.',
    });
    expect(result).toEqual({ file: 'speech.mp3' });
    expect(outputs.get('speech.mp3')?.type).toBe('audio/mpeg');
    expect(await outputs.get('speech.mp3')?.text()).toBe('ID3fake-mp3');
    await expect(
      run(job('audio.speech', { model: 'tts', input: 'x', voice: 'nobody', response_format: 'mp3' })),
    ).rejects.toBeInstanceOf(UnsupportedJobError);
  });

  it('asks for b64_json images with the diffusion knobs and stores each PNG', async () => {
    const { files, outputs } = memoryFiles();
    const result = await run(
      job('image.generation', {
        model: 'sdxl',
        prompt: 'a fox',
        n: 2,
        size: '512x512',
        response_format: 'url',
        negative_prompt: 'blurry',
        seed: 7,
        num_inference_steps: 20,
      }),
      files,
    );
    expect(received.at(-1)?.json).toEqual({
      model: 'served-model',
      prompt: 'a fox',
      n: 2,
      size: '512x512',
      response_format: 'b64_json',
      negative_prompt: 'blurry',
      seed: 7,
      num_inference_steps: 20,
    });
    expect(result).toEqual({
      created: 1_700_000_000,
      data: [{ file: 'image-0.png' }, { file: 'image-1.png' }],
    });
    expect(Buffer.from(await (outputs.get('image-1.png') as Blob).arrayBuffer())).toEqual(PNG);
    await expect(run(job('image.generation', { model: 'sdxl', prompt: 'broken' }))).rejects.toThrow(
      'without b64_json images',
    );
  });
});
