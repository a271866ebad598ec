import { type EngineAdapter, UnsupportedJobError, type WorkerJob } from '../engine.ts';

/**
 * The development engine: no GPU, no weights. It answers chat completions with deterministic,
 * clearly labelled text, paced like a real model (one token every `tokenDelayMs`), so the whole
 * request path (queue, leases, streaming, cancellation, billing) runs on any machine.
 */
export function createDevEngine(options: { tokenDelayMs: number }): EngineAdapter {
  return {
    name: 'dev',
    async ready() {},
    async run(job, emit, signal) {
      if (job.kind !== 'chat.completion') {
        throw new UnsupportedJobError(`The development engine does not run ${job.kind} jobs yet.`);
      }
      return chat(job, emit, signal, options.tokenDelayMs);
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
  if (input.stream && !(await emit(chunk({ role: 'assistant', content: '' }, null)))) return cancelled();
  for (const [index, token] of tokens.entries()) {
    await sleep(delayMs, signal);
    const piece = index === 0 ? token : ` ${token}`;
    if (input.stream && !(await emit(chunk({ content: piece }, null)))) return cancelled();
  }
  if (input.stream && !(await emit(chunk({}, finishReason)))) return cancelled();
  const promptTokens = input.messages.reduce(
    (sum, message) => sum + words(textOf(message.content)).length,
    0,
  );
  return {
    id,
    object: 'chat.completion',
    created,
    model: input.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: tokens.join(' ') },
        finish_reason: finishReason,
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: tokens.length,
      total_tokens: promptTokens + tokens.length,
    },
  };
}

const cancelled = (): never => {
  throw new DOMException('The job is no longer ours', 'AbortError');
};
