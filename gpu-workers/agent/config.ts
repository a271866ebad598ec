import { z } from 'zod';

/** The agent's environment, set by the compute provider when it starts the container or process. */
export const agentEnvSchema = z.object({
  CONTROL_PLANE_URL: z.url({
    protocol: /^https?$/,
    error: 'must be the edge URL, e.g. https://api.aicloud.dev',
  }),
  WORKER_TOKEN: z.string().regex(/^wt_[A-Za-z0-9_-]{20,128}$/, 'must be the replica token (wt_…)'),
  REPLICA_ID: z.string().min(1),
  ENGINE: z.enum(['vllm', 'whisper', 'diffusers', 'tts']),
  MODEL: z.string().default(''),
  /** Jobs run at once; the endpoint's concurrency per replica. */
  CONCURRENCY: z.coerce.number().int().min(1).max(256).default(1),
  /**
   * An OpenAI-compatible model server to run jobs on (vLLM in production images; Ollama, llama.cpp or
   * vLLM-CPU locally). Without it the agent uses the development engine.
   */
  ENGINE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://127.0.0.1:11434' })
    .optional(),
  /** The model name that server serves (Ollama: `llama3.1:8b`); defaults to MODEL. */
  ENGINE_MODEL: z.string().optional(),
  /**
   * Opt-in to the development engine (fake, labelled output) when no ENGINE_URL is set. Only the local
   * compute provider sets it: a production image without a model server must fail, not pretend.
   */
  DEV_ENGINE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  /** Pacing of the development engine, milliseconds per token. */
  DEV_TOKEN_DELAY_MS: z.coerce.number().int().min(0).max(5_000).default(15),
  /**
   * How long SIGTERM waits for running jobs before handing them back: under the container's stop
   * timeout (ECS kills a task 120 s after SIGTERM), or the hand-back would never run. Written out:
   * an empty value is a mistake, not "no drain".
   */
  DRAIN_TIMEOUT_MS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of milliseconds')
    .transform(Number)
    .pipe(z.number().max(90_000, 'must be at most 90000 (the container is killed 120 s after SIGTERM)'))
    .default(30_000),
});

export type AgentConfig = z.infer<typeof agentEnvSchema>;

export function parseAgentConfig(env: NodeJS.ProcessEnv): AgentConfig {
  const result = agentEnvSchema.safeParse(env);
  if (result.success && !result.data.ENGINE_URL && !result.data.DEV_ENGINE) {
    throw new Error(
      'Invalid worker agent settings:\n  - ENGINE_URL is required (the model server), unless DEV_ENGINE=true',
    );
  }
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  - ${issue.path.join('.')} ${issue.message}`);
  throw new Error(`Invalid worker agent settings:\n${lines.join('\n')}`);
}
