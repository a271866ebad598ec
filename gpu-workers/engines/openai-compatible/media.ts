import { type JobFiles, UnsupportedJobError, type WorkerJob } from '../engine.ts';

/** Posts to the model server; refusals become the caller's errors, other failures the engine's. */
export type Post = (
  path: string,
  body: Record<string, unknown> | FormData,
  signal: AbortSignal,
) => Promise<Response>;

interface TranscriptionJob {
  task?: 'transcribe' | 'translate';
  language?: string;
  prompt?: string;
  temperature?: number;
  timestamp_granularities?: string[];
  file: { name: string; content_type: string };
}

interface ServerTranscript {
  language?: string;
  duration?: number;
  text?: string;
  segments?: { id?: number; start: number; end: number; text: string }[];
  words?: { word: string; start: number; end: number }[];
}

/**
 * Whisper servers (faster-whisper-server / speaches in the whisper image) speak OpenAI's transcription
 * route. The adapter always asks for `verbose_json` with words, which the edge renders in the format
 * the caller asked for.
 */
export async function transcribe(
  job: WorkerJob,
  files: JobFiles,
  post: Post,
  servedModel: string,
  signal: AbortSignal,
) {
  const input = job.input as TranscriptionJob;
  const audio = await files.input();
  const form = new FormData();
  form.set('file', new File([audio], input.file.name, { type: input.file.content_type }));
  form.set('model', servedModel);
  form.set('response_format', 'verbose_json');
  form.append('timestamp_granularities[]', 'segment');
  form.append('timestamp_granularities[]', 'word');
  if (input.language && input.task !== 'translate') form.set('language', input.language);
  if (input.prompt) form.set('prompt', input.prompt);
  if (input.temperature !== undefined) form.set('temperature', String(input.temperature));
  const path = input.task === 'translate' ? 'v1/audio/translations' : 'v1/audio/transcriptions';
  const body = (await (await post(path, form, signal)).json()) as ServerTranscript;
  if (typeof body.text !== 'string') throw new Error('the transcription server answered without text');
  const segments = (body.segments ?? []).map((segment, index) => ({
    id: segment.id ?? index,
    start: segment.start,
    end: segment.end,
    text: segment.text,
  }));
  return {
    task: input.task ?? 'transcribe',
    language: body.language ?? input.language ?? 'english',
    duration: body.duration ?? segments.at(-1)?.end ?? 0,
    text: body.text,
    segments,
    words: body.words ?? [],
  };
}

const SPEECH_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

/** TTS servers with OpenAI's speech route (openedai-speech runs XTTS in the tts image). */
export async function speak(
  job: WorkerJob,
  files: JobFiles,
  post: Post,
  servedModel: string,
  signal: AbortSignal,
) {
  const input = job.input as {
    input: string;
    voice: string;
    response_format: string;
    speed?: number;
    instructions?: string;
  };
  const type = SPEECH_TYPES[input.response_format];
  if (!type) throw new UnsupportedJobError(`Unsupported response_format ${input.response_format}.`);
  const response = await post(
    'v1/audio/speech',
    {
      model: servedModel,
      input: input.input,
      voice: input.voice,
      response_format: input.response_format,
      speed: input.speed ?? 1,
      // Passed on as asked: a server that steers the voice by it does, one that does not ignores it.
      ...(input.instructions === undefined ? {} : { instructions: input.instructions }),
    },
    signal,
  );
  const audio = await response.blob();
  if (audio.size === 0) throw new Error('the speech server answered with no audio');
  const name = `speech.${input.response_format}`;
  await files.output(name, new Blob([audio], { type }));
  return { file: name };
}

/** Our extensions to OpenAI's image request, which the diffusers server understands. */
const DIFFUSION_FIELDS = [
  'negative_prompt',
  'seed',
  'num_inference_steps',
  'guidance_scale',
  'quality',
  'style',
];

/** Image servers with OpenAI's generations route (the diffusers server in the diffusers image). */
export async function generateImages(
  job: WorkerJob,
  files: JobFiles,
  post: Post,
  servedModel: string,
  signal: AbortSignal,
) {
  const input = job.input as Record<string, unknown> & { prompt: string; n?: number; size?: string };
  const extras = Object.fromEntries(
    DIFFUSION_FIELDS.filter((field) => input[field] !== undefined).map((field) => [field, input[field]]),
  );
  const response = await post(
    'v1/images/generations',
    {
      model: servedModel,
      prompt: input.prompt,
      n: input.n ?? 1,
      size: input.size ?? '1024x1024',
      response_format: 'b64_json',
      ...extras,
    },
    signal,
  );
  const body = (await response.json()) as {
    created?: number;
    data?: { b64_json?: string; revised_prompt?: string }[];
  };
  const images = body.data ?? [];
  if (images.length === 0 || images.some((image) => typeof image.b64_json !== 'string')) {
    throw new Error('the image server answered without b64_json images');
  }
  const data = [];
  for (const [index, image] of images.entries()) {
    const file = `image-${index}.png`;
    await files.output(file, new Blob([Buffer.from(image.b64_json ?? '', 'base64')], { type: 'image/png' }));
    data.push({ file, ...(image.revised_prompt ? { revised_prompt: image.revised_prompt } : {}) });
  }
  return { created: body.created ?? Math.floor(Date.now() / 1000), data };
}
