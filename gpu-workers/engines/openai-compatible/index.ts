import {
  chatCompletion,
  type EngineAdapter,
  jobLost,
  type ToolCall,
  UnsupportedJobError,
  type WorkerJob,
} from '../engine.ts';
import { generateImages, speak, transcribe } from './media.ts';
import { sseData } from './sse.ts';

interface ToolCallDelta {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

interface Chunk {
  choices?: {
    index?: number;
    delta?: {
      content?: string | null;
      role?: string;
      /** vLLM's reasoning parsers: `reasoning_content`, or `reasoning` in newer releases. */
      reasoning_content?: string | null;
      reasoning?: string | null;
      tool_calls?: ToolCallDelta[];
    };
    logprobs?: { content?: unknown[] | null } | null;
    finish_reason?: string | null;
  }[];
  usage?: Record<string, number> | null;
  /** A failure event: `{"error": {...}}`, or `{"object": "error", "message": ...}` (older vLLM). */
  error?: { message?: string } | string;
  object?: string;
  message?: string;
}

const failure = (chunk: Chunk) =>
  String(
    (typeof chunk.error === 'object' ? chunk.error?.message : chunk.error) ??
      chunk.message ??
      'no reason given',
  ).slice(0, 500);

/** Streamed tool calls arrive in pieces keyed by index: the first names the call, the rest add arguments. */
function mergeToolCalls(calls: ToolCall[], deltas: ToolCallDelta[]) {
  for (const delta of deltas) {
    const index = delta.index ?? calls.length;
    const call = calls[index] ?? { id: '', type: 'function', function: { name: '', arguments: '' } };
    calls[index] = call;
    if (delta.id) call.id = delta.id;
    if (delta.type) call.type = delta.type;
    if (delta.function?.name) call.function.name += delta.function.name;
    if (delta.function?.arguments) call.function.arguments += delta.function.arguments;
  }
}

/**
 * Any server that speaks the OpenAI API: vLLM in the LLM image, faster-whisper-server in the whisper
 * image, openedai-speech (XTTS) in the tts image, the diffusers server in the diffusers image, or
 * Ollama, llama.cpp and vLLM-CPU named by ENGINE_URL on a laptop. Always streams from the server (to relay tokens and collect usage)
 * and answers the caller in the shape it asked for; `model` and `id` are the platform's.
 */
/**
 * How long a streaming answer may go without a byte before the job fails: a model server that hangs
 * mid-answer (a stuck GPU) would otherwise hold the job's slot, its lease renewed, until its deadline.
 */
const STALL_MS = 300_000;

/** The job's signal, also aborted with a clear reason once `touch` has not been called for `ms`. */
function stallGuard(jobSignal: AbortSignal, ms: number) {
  const controller = new AbortController();
  const forward = () => controller.abort(jobSignal.reason);
  jobSignal.addEventListener('abort', forward, { once: true });
  const stalled = new Error(`model server sent nothing for ${ms / 1000} s mid-answer`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(stalled), ms);
  };
  touch();
  return {
    signal: controller.signal,
    touch,
    /** The stall, when that is why the call ended; the original error otherwise. */
    why: (error: unknown) => (controller.signal.reason === stalled ? stalled : error),
    done: () => {
      clearTimeout(timer);
      jobSignal.removeEventListener('abort', forward);
    },
  };
}

export function createOpenAICompatibleEngine(options: {
  baseUrl: string;
  servedModel: string;
  /** Overrides STALL_MS (tests). */
  stallMs?: number;
}): EngineAdapter {
  const url = (path: string) =>
    new URL(path, options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`).toString();
  return {
    name: `openai-compatible (${options.baseUrl})`,
    async ready(signal) {
      for (;;) {
        try {
          const response = await fetch(url('v1/models'), { signal });
          await response.body?.cancel();
          // These servers listen only once their weights are loaded: any answer means ready (a 404
          // is a server without a models route).
          if (response.status < 500) return;
        } catch (error) {
          if (signal.aborted) throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    },
    async run(job, emit, signal, files) {
      const served = options.servedModel;
      if (job.kind === 'chat.completion') {
        const guard = stallGuard(signal, options.stallMs ?? STALL_MS);
        try {
          return await chat(job, emit, guard.signal, url('v1/chat/completions'), served, guard.touch);
        } catch (error) {
          throw guard.why(error);
        } finally {
          guard.done();
        }
      }
      const media = (path: string, body: Record<string, unknown> | FormData, mediaSignal: AbortSignal) =>
        post(url(path), body, mediaSignal);
      if (job.kind === 'audio.transcription') return transcribe(job, files, media, served, signal);
      if (job.kind === 'audio.speech') return speak(job, files, media, served, signal);
      if (job.kind === 'image.generation') return generateImages(job, files, media, served, signal);
      const path = PASSTHROUGH_PATHS[job.kind];
      if (!path) throw new UnsupportedJobError(`This engine does not run ${job.kind} jobs.`);
      return passthrough(job, emit, signal, url(path), options.servedModel);
    },
  };
}

/** Job kinds answered in one piece by the server's route of the same name. */
const PASSTHROUGH_PATHS: Record<string, string> = {
  completion: 'v1/completions',
  embedding: 'v1/embeddings',
};

/**
 * Statuses by which a model server refuses the request itself (too long a prompt, bad parameters,
 * too large a body): the caller's to fix. Any other (404 for a model it does not serve, 401, 429, 5xx)
 * is the deployment's or the server's trouble, not the caller's.
 */
const CALLER_ERRORS = new Set([400, 413, 422]);

async function refused(response: Response): Promise<never> {
  const detail = (await response.text()).slice(0, 500);
  if (CALLER_ERRORS.has(response.status))
    throw new UnsupportedJobError(`The model server refused the request: ${detail}`);
  throw new Error(`model server answered ${response.status}: ${detail}`);
}

/** Posts to the model server (JSON, or multipart for uploads); refusals become the caller's errors. */
async function post(
  endpoint: string,
  body: Record<string, unknown> | FormData,
  signal: AbortSignal,
): Promise<Response> {
  const form = body instanceof FormData;
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: form ? {} : { 'content-type': 'application/json' },
    body: form ? body : JSON.stringify(body),
    signal,
  });
  return response.ok ? response : refused(response);
}

async function passthrough(
  job: WorkerJob,
  emit: (chunk: Record<string, unknown>) => Promise<boolean>,
  signal: AbortSignal,
  endpoint: string,
  servedModel: string,
) {
  const { stream_options: _streamOptions, ...input } = job.input as Record<string, unknown> & {
    model: string;
    stream?: boolean;
  };
  // Asked in one piece, so without `stream_options` (vLLM refuses it unless streaming).
  const response = await post(endpoint, { ...input, model: servedModel, stream: false }, signal);
  const result: Record<string, unknown> = {
    ...((await response.json()) as Record<string, unknown>),
    model: input.model,
  };
  // A streaming caller of a one-piece answer gets it as a single chunk; its usage comes in the usage
  // chunk the edge adds when asked for, not in this one as well.
  if (input.stream) {
    const { usage: _usage, ...chunk } = result;
    if (!(await emit(chunk))) jobLost();
  }
  return result;
}

async function chat(
  job: WorkerJob,
  emit: (chunk: Record<string, unknown>) => Promise<boolean>,
  signal: AbortSignal,
  endpoint: string,
  servedModel: string,
  /** Called on every event: the stall guard's sign of life. */
  alive: () => void,
) {
  const input = job.input as Record<string, unknown> & { model: string; stream?: boolean };
  const response = await post(
    endpoint,
    { ...input, model: servedModel, stream: true, stream_options: { include_usage: true } },
    signal,
  );
  if (!response.body) return refused(response);
  // A server that ignored `stream: true` answers one JSON document: nothing here would parse it, and an
  // empty answer must not pass for a successful one.
  if (!(response.headers.get('content-type') ?? '').includes('text/event-stream'))
    throw new Error(`model server did not stream (content-type ${response.headers.get('content-type')})`);
  const id = `chatcmpl-${job.id}`;
  const created = Math.floor(Date.now() / 1000);
  let content = '';
  let reasoning = '';
  const toolCalls: ToolCall[] = [];
  let logprobs: unknown[] | null = null;
  let finishReason: string | null = null;
  let usage: Record<string, number> | null = null;
  let ended = false;
  for await (const data of sseData(response.body)) {
    alive();
    if (data === '[DONE]') {
      ended = true;
      break;
    }
    const chunk = JSON.parse(data) as Chunk;
    // A server that fails mid-answer (vLLM: an `error` event, then [DONE]) has not answered.
    if (chunk.error || chunk.object === 'error')
      throw new Error(`model server failed mid-answer: ${failure(chunk)}`);
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    content += choice.delta?.content ?? '';
    finishReason = choice.finish_reason ?? finishReason;
    // A streaming caller already has these in its chunks; only a one-piece answer is assembled from them.
    if (!input.stream) {
      reasoning += choice.delta?.reasoning_content ?? choice.delta?.reasoning ?? '';
      if (choice.delta?.tool_calls) mergeToolCalls(toolCalls, choice.delta.tool_calls);
      if (choice.logprobs?.content) {
        logprobs = logprobs ?? [];
        logprobs.push(...choice.logprobs.content);
      }
    }
    if (
      input.stream &&
      !(await emit({
        ...chunk,
        id,
        created,
        model: input.model,
        object: 'chat.completion.chunk',
        usage: undefined,
      }))
    ) {
      jobLost();
    }
  }
  // Cut off (the server died, the connection dropped): a partial answer is not a finished one.
  if (!ended && finishReason === null) throw new Error('model server stream ended before the answer did');
  return chatCompletion({
    id,
    created,
    model: input.model,
    content,
    finishReason: finishReason ?? 'stop',
    usage: usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    toolCalls: toolCalls.filter(Boolean),
    logprobs: logprobs ? { content: logprobs } : null,
    reasoning,
  });
}
