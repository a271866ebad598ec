import { type JobFiles, UnsupportedJobError, type WorkerJob } from '../engine.ts';
import { encodePng, encodeWav, wavDuration } from './encode.ts';

/** A deterministic 32-bit seed from text. */
export function seedOf(text: string): number {
  let state = 2166136261;
  for (const char of text) state = Math.imul(state ^ char.charCodeAt(0), 16777619) >>> 0;
  return state;
}

interface TranscriptionJob {
  task?: 'transcribe' | 'translate';
  language?: string;
  file: { name: string; bytes: number };
}

const LANGUAGES: Record<string, string> = { en: 'english', fr: 'french', de: 'german', es: 'spanish' };

/**
 * A labelled transcript whose length follows the audio's: one segment per 5 s. WAV durations are
 * read from the header; other containers are estimated at 128 kbit/s.
 */
export async function devTranscript(job: WorkerJob, files: JobFiles) {
  const input = job.input as TranscriptionJob;
  const bytes = new Uint8Array(await (await files.input()).arrayBuffer());
  const duration = Math.round((wavDuration(bytes) ?? bytes.length / 16_000) * 100) / 100;
  const count = Math.max(1, Math.ceil(duration / 5));
  const segments = Array.from({ length: count }, (_, id) => ({
    id,
    start: id * 5,
    end: Math.min(duration, (id + 1) * 5),
    text: ` [development engine] part ${id + 1} of ${count} of ${input.file.name}.`,
  }));
  const words = segments.flatMap((segment) => {
    const parts = segment.text.trim().split(/\s+/);
    const step = (segment.end - segment.start) / parts.length;
    return parts.map((word, i) => ({
      word,
      start: Math.round((segment.start + i * step) * 100) / 100,
      end: Math.round((segment.start + (i + 1) * step) * 100) / 100,
    }));
  });
  const language =
    input.task === 'translate' ? 'english' : (LANGUAGES[input.language ?? 'en'] ?? input.language);
  return {
    task: input.task ?? 'transcribe',
    language,
    duration,
    text: segments.map((segment) => segment.text.trim()).join(' '),
    segments,
    words,
  };
}

interface SpeechJob {
  input: string;
  voice: string;
  response_format: string;
  speed?: number;
}

const SAMPLE_RATE = 24_000;

/** One short tone per word (pitch from the word and the voice), so the audio's length follows the text. */
export async function devSpeech(job: WorkerJob, files: JobFiles) {
  const input = job.input as SpeechJob;
  if (input.response_format !== 'wav' && input.response_format !== 'pcm') {
    throw new UnsupportedJobError(
      `The development engine produces wav and pcm audio, not ${input.response_format}: ask for response_format "wav".`,
    );
  }
  const words = input.input.split(/\s+/).filter(Boolean);
  const wordSamples = Math.round((SAMPLE_RATE * 0.25) / (input.speed ?? 1));
  const gap = Math.round(wordSamples / 5);
  const samples = new Int16Array(words.length * (wordSamples + gap));
  words.forEach((word, w) => {
    const pitch = 180 + ((seedOf(`${input.voice}:${word}`) % 400) as number);
    for (let i = 0; i < wordSamples; i++) {
      const envelope = Math.sin((Math.PI * i) / wordSamples);
      samples[w * (wordSamples + gap) + i] = Math.round(
        9000 * envelope * Math.sin((2 * Math.PI * pitch * i) / SAMPLE_RATE),
      );
    }
  });
  const wav = input.response_format === 'wav';
  const bytes = wav ? encodeWav(samples, SAMPLE_RATE) : new Uint8Array(samples.buffer as ArrayBuffer);
  const name = wav ? 'speech.wav' : 'speech.pcm';
  await files.output(name, new Blob([bytes], { type: wav ? 'audio/wav' : 'audio/pcm' }));
  return { file: name };
}

interface ImageJob {
  prompt: string;
  n?: number;
  size?: string;
  seed?: number;
}

/** Smooth colour fields seeded by the prompt (and seed): equal requests give equal images. */
export async function devImages(job: WorkerJob, files: JobFiles) {
  const input = job.input as ImageJob;
  const [width = 1024, height = 1024] = (input.size ?? '1024x1024').split('x').map(Number);
  const data: { file: string; revised_prompt: string }[] = [];
  for (let index = 0; index < (input.n ?? 1); index++) {
    const seed = seedOf(`${input.prompt}:${input.seed ?? 0}:${index}`);
    const hue = [seed & 0xff, (seed >>> 8) & 0xff, (seed >>> 16) & 0xff];
    const png = encodePng(width, height, (x, y) => {
      const u = x / width;
      const v = y / height;
      return [
        Math.round((hue[0] ?? 0) * (1 - u) + 255 * u * v) & 0xff,
        Math.round((hue[1] ?? 0) * (1 - v) + 128 * u) & 0xff,
        Math.round((hue[2] ?? 0) * u + 64 * (1 - v)) & 0xff,
      ];
    });
    const file = `image-${index}.png`;
    await files.output(file, new Blob([png], { type: 'image/png' }));
    data.push({ file, revised_prompt: `[development engine] ${input.prompt}` });
  }
  return { created: Math.floor(Date.now() / 1000), data };
}
