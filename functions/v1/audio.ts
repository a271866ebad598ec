import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { jsonRequest } from '../api/schemas.ts';
import type { AppEnv } from '../context.ts';
import { InvalidRequestError, ServiceError } from '../core/errors.ts';
import { AUDIO_SNIFF_BYTES, sniffAudio } from '../core/inference/audio-format.ts';
import {
  MAX_AUDIO_FILE_BYTES,
  speechInput,
  type TranscriptionInput,
  transcriptionInput,
} from '../core/inference/media-inputs.ts';
import { renderTranscript, type VerboseTranscript } from '../core/inference/transcript.ts';
import { jobInputKey } from '../core/payloads/store.ts';
import { readOutput } from '../lib/inference/outputs.ts';
import { respond } from '../lib/inference/respond.ts';
import { createRouter } from '../lib/openapi.ts';

const security = [{ bearer: [] }];
const tags = ['OpenAI-compatible'];
const accepted = {
  description: 'Accepted to run asynchronously (`webhook` or `Prefer: respond-async`)',
  content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
};

export const audio = createRouter();

/** The document shows the upload as a binary string, as OpenAPI describes files. */
const transcriptionForm = transcriptionInput.extend({
  file: transcriptionInput.shape.file.openapi({ type: 'string', format: 'binary' }),
});

const transcriptionRoute = (path: string, summary: string, schema: typeof transcriptionForm) =>
  createRoute({
    method: 'post',
    path,
    tags,
    summary,
    description:
      'OpenAI-compatible multipart upload (flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm; up to 25 MB). The file is stored and the job refers to it; the worker fetches it.',
    security,
    request: {
      body: { content: { 'multipart/form-data': { schema } }, required: true },
    },
    responses: {
      200: {
        description: 'The transcript in the requested `response_format` (JSON, or text for text/srt/vtt)',
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
      },
      202: accepted,
    },
  });

async function transcribe(c: Context<AppEnv>, form: TranscriptionInput, task: 'transcribe' | 'translate') {
  const ctx = c.get('services');
  const { file, response_format: format } = form;
  if (file.size > MAX_AUDIO_FILE_BYTES) {
    throw new ServiceError(
      'payload_too_large',
      `file: larger than the ${MAX_AUDIO_FILE_BYTES} byte limit (25 MB).`,
      {
        param: 'file',
      },
    );
  }
  const container = sniffAudio(new Uint8Array(await file.slice(0, AUDIO_SNIFF_BYTES).arrayBuffer()));
  if (!container) {
    throw new InvalidRequestError(
      'file: the file is not audio in a supported format (flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm).',
      { param: 'file' },
    );
  }
  const granularities = form['timestamp_granularities[]'] ?? ['segment'];
  if (form['timestamp_granularities[]'] && format !== 'verbose_json') {
    throw new InvalidRequestError('timestamp_granularities requires response_format "verbose_json".', {
      param: 'timestamp_granularities',
    });
  }
  return respond(c, {
    kind: 'audio.transcription',
    body: {
      model: form.model,
      task,
      language: form.language,
      prompt: form.prompt,
      temperature: form.temperature,
      response_format: format,
      timestamp_granularities: granularities,
    },
    webhook: form.webhook,
    webhookEvents: form['webhook_events[]'],
    stage: async (jobId) => {
      const contentType = file.type || `audio/${container}`;
      await ctx.payloads.put(jobInputKey(jobId), file, contentType);
      return {
        file: { name: file.name || `audio.${container}`, bytes: file.size, content_type: contentType },
      };
    },
    present: async (result) => {
      const rendered = renderTranscript(result as unknown as VerboseTranscript, format, granularities);
      return rendered.kind === 'json'
        ? c.json(rendered.body, 200)
        : c.body(rendered.body, 200, { 'content-type': rendered.contentType });
    },
  });
}

audio.openapi(
  transcriptionRoute('/audio/transcriptions', 'Transcribe audio (Whisper)', transcriptionForm),
  async (c) =>
    (await transcribe(c, c.req.valid('form'), 'transcribe')) as unknown as ReturnType<
      typeof c.json<Record<string, unknown>, 200>
    >,
);

audio.openapi(
  transcriptionRoute('/audio/translations', 'Translate audio into English text (Whisper)', transcriptionForm),
  async (c) => {
    const form = c.req.valid('form');
    if (form.language !== undefined) {
      throw new InvalidRequestError('Unrecognized request argument supplied: language', {
        param: 'language',
      });
    }
    const response = await transcribe(c, form, 'translate');
    return response as unknown as ReturnType<typeof c.json<Record<string, unknown>, 200>>;
  },
);

audio.openapi(
  createRoute({
    method: 'post',
    path: '/audio/speech',
    tags,
    summary: 'Text to speech',
    description:
      'OpenAI-compatible. Answers with the audio itself (`Content-Type` per `response_format`); async jobs get a link in their result.',
    security,
    request: jsonRequest(speechInput.openapi('SpeechRequest')),
    responses: {
      200: {
        description: 'The audio',
        content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
      },
      202: accepted,
    },
  }),
  async (c) => {
    const ctx = c.get('services');
    const { webhook, webhook_events, ...body } = c.req.valid('json');
    const response = await respond(c, {
      kind: 'audio.speech',
      body,
      webhook,
      webhookEvents: webhook_events,
      present: async (result, job) => {
        const stored = await readOutput(ctx, job.id, String(result.file));
        return c.body(stored.body, 200, {
          'content-type': stored.contentType,
          'content-length': String(stored.size),
        });
      },
    });
    // The route's typed answers are JSON; the audio body is the same route's other form.
    return response as unknown as ReturnType<typeof c.json<Record<string, unknown>, 200>>;
  },
);
