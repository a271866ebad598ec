import {
  chatCompletion,
  type EngineAdapter,
  jobLost,
  UnsupportedJobError,
  type WorkerJob,
} from '../engine.ts';
import { devImages, devSpeech, devTranscript, seedOf } from './media.ts';

/**
 * The development engine: no GPU, no weights. It answers chat completions with deterministic,
 * clearly labelled text, paced like a real model (one token every `tokenDelayMs`), and produces a
 * labelled transcript, a WAV of tones and generated PNGs, so the whole request path (queue, leases,
 * streaming, payloads, cancellation, billing) runs on any machine.
 */
export function createDevEngine(options: { tokenDelayMs: number }): EngineAdapter {
  return {
    name: 'dev',
    async ready() {},
    async run(job, emit, signal, files) {
      if (job.kind === 'chat.completion') return chat(job, emit, signal, options.tokenDelayMs);
      if (job.kind === 'completion') return completion(job, emit, signal, options.tokenDelayMs);
      if (job.kind === 'embedding') return embedding(job);
      if (job.kind === 'audio.transcription') return devTranscript(job, files);
      if (job.kind === 'audio.speech') return devSpeech(job, files);
      if (job.kind === 'image.generation') return devImages(job, files);
      throw new UnsupportedJobError(`The development engine does not run ${job.kind} jobs.`);
    },
  };
}

interface ChatInput {
  model: string;
  messages: { role: string; content: string | { type: string; text?: string }[] | null }[];
  stream?: boolean;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
}

const textOf = (content: ChatInput['messages'][number]['content']) =>
  typeof content === 'string' ? content : (content ?? []).map((part) => part.text ?? '').join(' ');

const words = (text: string) => text.split(/\s+/).filter(Boolean);

/** The reply: a label, an echo of the last user message, then filler words chosen from its hash. */
export function devReply(messages: ChatInput['messages']): string[] {
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  const said = words(textOf(lastUser?.content ?? ''))
    .slice(0, 24)
    .join(' ');
  const filler = ['GPU', 'seconds', 'queue', 'replica', 'stream', 'token', 'lease', 'endpoint'];
  let seed = 0;
  for (const char of said) seed = (seed * 31 + char.charCodeAt(0)) >>> 0;
  const extra = Array.from({ length: 8 }, (_, i) => filler[(seed + i * 7) % filler.length] ?? 'token');
  return words(`[development engine] You said: "${said}". ${extra.join(' ')}.`);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

async function chat(
  job: WorkerJob,
  emit: (chunk: Record<string, unknown>) => Promise<boolean>,
  signal: AbortSignal,
  delayMs: number,
) {
  const input = job.input as ChatInput;
  const limit = input.max_completion_tokens ?? input.max_tokens ?? Number.POSITIVE_INFINITY;
  const reply = devReply(input.messages);
  const tokens = reply.slice(0, Math.min(reply.length, limit));
  const finishReason = tokens.length < reply.length ? 'length' : 'stop';
  const id = `chatcmpl-${job.id}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: input.model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });
  if (input.stream && !(await emit(chunk({ role: 'assistant', content: '' }, null)))) return jobLost();
  for (const [index, token] of tokens.entries()) {
    await sleep(delayMs, signal);
    const piece = index === 0 ? token : ` ${token}`;
    if (input.stream && !(await emit(chunk({ content: piece }, null)))) return jobLost();
  }
  if (input.stream && !(await emit(chunk({}, finishReason)))) return jobLost();
  const promptTokens = input.messages.reduce(
    (sum, message) => sum + words(textOf(message.content)).length,
    0,
  );
  return chatCompletion({
    id,
    created,
    model: input.model,
    content: tokens.join(' '),
    finishReason,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: tokens.length,
      total_tokens: promptTokens + tokens.length,
    },
  });
}

interface CompletionInput {
  model: string;
  prompt: string | string[];
  stream?: boolean;
  max_tokens?: number | null;
}

async function completion(
  job: WorkerJob,
  emit: (chunk: Record<string, unknown>) => Promise<boolean>,
  signal: AbortSignal,
  delayMs: number,
) {
  const input = job.input as CompletionInput;
  const prompt = Array.isArray(input.prompt) ? (input.prompt[0] ?? '') : input.prompt;
  const reply = devReply([{ role: 'user', content: prompt }]);
  // The legacy API's default is 16 tokens.
  const tokens = reply.slice(0, Math.min(reply.length, input.max_tokens ?? 16));
  const finishReason = tokens.length < reply.length ? 'length' : 'stop';
  const id = `cmpl-${job.id}`;
  const created = Math.floor(Date.now() / 1000);
  for (const [index, token] of tokens.entries()) {
    await sleep(delayMs, signal);
    const piece = index === 0 ? token : ` ${token}`;
    const last = index === tokens.length - 1;
    const chunk = {
      id,
      object: 'text_completion',
      created,
      model: input.model,
      choices: [{ index: 0, text: piece, finish_reason: last ? finishReason : null, logprobs: null }],
    };
    if (input.stream && !(await emit(chunk))) return jobLost();
  }
  const promptTokens = words(prompt).length;
  return {
    id,
    object: 'text_completion',
    created,
    model: input.model,
    choices: [{ index: 0, text: tokens.join(' '), finish_reason: finishReason, logprobs: null }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: tokens.length,
      total_tokens: promptTokens + tokens.length,
    },
  };
}

interface EmbeddingInput {
  model: string;
  input: string | string[];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
}

/** A unit vector derived from the text alone: equal texts embed equally, different ones differently. */
export function devVector(text: string, dimensions: number): number[] {
  let state = seedOf(text);
  const vector = Array.from({ length: dimensions }, () => {
    state = Math.imul(state ^ (state >>> 15), 2246822507) >>> 0;
    state = Math.imul(state ^ (state >>> 13), 3266489909) >>> 0;
    return (state / 0xffffffff) * 2 - 1;
  });
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

function embedding(job: WorkerJob) {
  const input = job.input as EmbeddingInput;
  const texts = Array.isArray(input.input) ? input.input : [input.input];
  const dimensions = input.dimensions ?? 384;
  const data = texts.map((text, index) => {
    const vector = devVector(text, dimensions);
    const encoded =
      input.encoding_format === 'base64'
        ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
        : vector;
    return { object: 'embedding', index, embedding: encoded };
  });
  const promptTokens = texts.reduce((sum, text) => sum + words(text).length, 0);
  return {
    object: 'list',
    data,
    model: input.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
