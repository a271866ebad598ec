import { z } from 'zod';

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a port number (1-65535)' })
    .int('must be a port number (1-65535)')
    .min(1, 'must be a port number (1-65535)')
    .max(65_535, 'must be a port number (1-65535)')
    .default(fallback);

/** Settings of `npm run dev`. Everything has a default; what is set must be well-formed. */
export const devEnvSchema = z.object({
  EDGE_PORT: port(8787),
  NEON_PROXY_PORT: port(4444),
  REDIS_REST_PORT: port(8079),
  QSTASH_PORT: port(8080),
  COMPUTE_PORT: port(8081),
  MAIL_PORT: port(8082),
  STRIPE_PORT: port(8083),
  POSTGRES_PORT: port(5488),
  REDIS_PORT: port(6390),
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/[^/]+\/[^/?]+/, 'must look like postgres://user:password@host:5432/database')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must look like redis://host:6379')
    .optional(),
  /** An OpenAI-compatible model server local workers send jobs to (Ollama, llama.cpp, vLLM CPU). */
  ENGINE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://127.0.0.1:11434' })
    .optional(),
  /** Real Stripe in test mode instead of the local Stripe (forward events with `stripe listen`). */
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_test_/, 'must be a test-mode Stripe key (sk_test_…) for local development')
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_/, 'must be a webhook signing secret (whsec_…)')
    .optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** workerd (wrangler dev, as production runs it) or Node (the API only; used by `npm run bench`). */
  EDGE_RUNTIME: z.enum(['workerd', 'node']).default('workerd'),
  /** With EDGE_RUNTIME=node: write a V8 CPU profile of the edge here when it stops (for `npm run bench`). */
  EDGE_CPU_PROFILE_DIR: z.string().min(1).optional(),
});

export type DevConfig = z.infer<typeof devEnvSchema>;

export function parseDevConfig(env: NodeJS.ProcessEnv): DevConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = devEnvSchema.safeParse(present);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  - ${issue.path.join('.')} ${issue.message}`);
  throw new Error(`Invalid development settings:\n${lines.join('\n')}`);
}
