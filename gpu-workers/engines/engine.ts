/** A job as the worker API leases it. */
export interface WorkerJob {
  id: string;
  kind: string;
  input: unknown;
  deadline_ms: number;
  attempt: number;
}

/** Sends output chunks to the caller; resolves false when the job is no longer ours (stop working). */
export type Emit = (chunk: Record<string, unknown>) => Promise<boolean>;

/**
 * Large inputs and outputs go by reference through the edge: the engine reads the job's uploaded file
 * and stores the files it produces, naming them in its result as `{ file: "<name>" }`.
 */
export interface JobFiles {
  input(): Promise<Blob>;
  output(name: string, file: Blob): Promise<void>;
}

/**
 * How the agent talks to a model server. `run` returns the job's final result (an OpenAI response
 * object) and emits chunks as it goes when the caller streams; it stops when `signal` aborts.
 */
export interface EngineAdapter {
  readonly name: string;
  /** Resolves once the model server answers (weights loaded); the agent takes no job before. */
  ready(signal: AbortSignal): Promise<void>;
  run(job: WorkerJob, emit: Emit, signal: AbortSignal, files: JobFiles): Promise<Record<string, unknown>>;
}

/** Refused by the engine for a reason the caller must fix: reported to the caller as is. */
export class UnsupportedJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedJobError';
  }
}

/** Ends an engine's work on a job the edge no longer gives it (cancelled, timed out, re-queued). */
export const jobLost = (): never => {
  throw new DOMException('The job is no longer ours', 'AbortError');
};

/** A tool call as a chat answer carries it: the model's request to call one of the caller's tools. */
export interface ToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

/** The one-piece chat answer every engine ends a chat job with, under the platform's id and model. */
export function chatCompletion(answer: {
  id: string;
  created: number;
  model: string;
  content: string;
  finishReason: string;
  usage: Record<string, number>;
  toolCalls?: ToolCall[];
  /** Per-token log probabilities, when the caller asked for them (`logprobs: true`). */
  logprobs?: { content: unknown[] } | null;
  /** The reasoning a reasoning model produced before its answer (vLLM's `reasoning_content`). */
  reasoning?: string;
}) {
  const toolCalls = answer.toolCalls ?? [];
  return {
    id: answer.id,
    object: 'chat.completion',
    created: answer.created,
    model: answer.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI's shape: a message that only calls tools has null content.
          content: toolCalls.length > 0 && answer.content === '' ? null : answer.content,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          ...(answer.reasoning ? { reasoning_content: answer.reasoning } : {}),
        },
        finish_reason: answer.finishReason,
        logprobs: answer.logprobs ?? null,
      },
    ],
    usage: answer.usage,
  };
}
