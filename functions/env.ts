import { z } from 'zod';
import { ConfigurationError } from './core/errors.ts';

const url = (example: string) =>
  z.url({ protocol: /^https?$/, error: `must be an http(s) URL, e.g. ${example}` });

/** A JSON object of strings in one variable (wrangler vars are strings). */
const jsonRecord = (example: string) =>
  z.string().transform((text, context) => {
    try {
      return z.record(z.string(), z.string().min(1)).parse(JSON.parse(text));
    } catch {
      context.addIssue({ code: 'custom', message: `must be a JSON object of strings, e.g. ${example}` });
      return z.NEVER;
    }
  });

const commaList = () =>
  z
    .string()
    .min(1)
    .transform((text) =>
      text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );

const secret = (what: string) => z.string({ error: `is required (${what})` }).min(1, `is required (${what})`);

/**
 * Everything the edge reads from its environment (wrangler vars and secrets). Parsed once per isolate;
 * a bad value stops the request with a message naming the variable instead of failing somewhere deep.
 */
export const edgeEnvSchema = z.object({
  ENVIRONMENT: z.enum(['development', 'test', 'production'], {
    error: 'must be one of development, test, production',
  }),
  PUBLIC_URL: url('https://api.aicloud.dev'),
  DATABASE_URL: z
    .string({ error: 'is required, e.g. postgres://user:password@host/db' })
    .regex(/^postgres(ql)?:\/\/[^/]+\/[^/?]+/, 'must look like postgres://user:password@host:5432/database'),
  /**
   * Development only: the Neon-compatible proxy in `dev/` that stands in front of a local Postgres.
   * Unset in production, where the driver talks to Neon directly over TLS.
   */
  NEON_PROXY_URL: url('http://127.0.0.1:4444').optional(),
  UPSTASH_REDIS_REST_URL: url('https://eu1-example.upstash.io'),
  UPSTASH_REDIS_REST_TOKEN: secret('the Upstash Redis REST token'),
  QSTASH_URL: url('https://qstash.upstash.io').default('https://qstash.upstash.io'),
  QSTASH_TOKEN: secret('the QStash token'),
  QSTASH_CURRENT_SIGNING_KEY: secret('the QStash current signing key'),
  QSTASH_NEXT_SIGNING_KEY: secret('the QStash next signing key'),
  COMPUTE_PROVIDER: z.enum(['local', 'ecs', 'ec2'], { error: 'must be "local", "ecs" or "ec2"' }),
  LOCAL_COMPUTE_URL: url('http://127.0.0.1:8081').optional(),
  LOCAL_COMPUTE_TOKEN: z.string().min(1).optional(),
  /** The `ecs` provider (infra/ creates all of these; see README "Deploying"). */
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region, e.g. us-east-1')
    .optional(),
  AWS_ACCESS_KEY_ID: z.string().min(16).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(16).optional(),
  /** Overrides the AWS endpoints (a local stand-in); unset in production. */
  AWS_ENDPOINT_URL: url('http://127.0.0.1:4566').optional(),
  ECS_CLUSTER: z.string().min(1).optional(),
  /** JSON: GPU slug → capacity provider, e.g. {"a10g":"g5","a100-80gb":"p4de"}. */
  ECS_CAPACITY_PROVIDERS: jsonRecord('{"a10g":"aicloud-g5"}').optional(),
  /** JSON: engine → task definition, e.g. {"vllm":"aicloud-worker-vllm"}. */
  ECS_TASK_DEFINITIONS: jsonRecord('{"vllm":"aicloud-worker-vllm"}').optional(),
  /** The `ec2` provider: JSON GPU slug → launch template, and engine → worker image URI. */
  EC2_LAUNCH_TEMPLATES: jsonRecord('{"h100-80gb":"aicloud-p5"}').optional(),
  EC2_IMAGES: jsonRecord(
    '{"vllm":"<account>.dkr.ecr.<region>.amazonaws.com/aicloud/worker-vllm:1"}',
  ).optional(),
  ECS_SUBNETS: commaList().optional(),
  ECS_SECURITY_GROUPS: commaList().optional(),
  /** Stripe's secret key (`sk_live_…`, `sk_test_…`); `npm run dev` gives one its local Stripe accepts. */
  STRIPE_SECRET_KEY: z
    .string({ error: 'is required (the Stripe secret key, sk_live_… or sk_test_…)' })
    .regex(/^(sk|rk)_(live|test)_[A-Za-z0-9_]{8,}$/, 'must be a Stripe secret key (sk_live_… or sk_test_…)'),
  /** Verifies Stripe's webhook signatures (the endpoint's signing secret from Stripe's dashboard). */
  STRIPE_WEBHOOK_SECRET: z
    .string({ error: 'is required (the Stripe webhook signing secret, whsec_…)' })
    .regex(/^whsec_[A-Za-z0-9+/=_-]{16,}$/, 'must be a Stripe webhook signing secret (whsec_…)'),
  /** Overrides Stripe's API address (the local Stripe of `npm run dev` and tests); unset in production. */
  STRIPE_API_URL: url('http://127.0.0.1:8083').optional(),
  /** Signs session JWTs (HS256). 32+ random characters; rotating it signs everyone out. */
  AUTH_SECRET: z
    .string({ error: 'is required (the session signing secret, 32+ random characters)' })
    .min(32, 'must be at least 32 characters (e.g. openssl rand -base64 48)'),
  /** Resend's API; `npm run dev` points it at the local outbox, which speaks the same protocol. */
  RESEND_API_URL: url('https://api.resend.com').default('https://api.resend.com'),
  RESEND_API_KEY: secret('the Resend API key'),
  EMAIL_FROM: z
    .string({ error: 'is required, e.g. AI Cloud <no-reply@aicloud.dev>' })
    .regex(
      /^(.+<)?[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>?$/,
      'must be an address, e.g. AI Cloud <no-reply@aicloud.dev>',
    ),
  /**
   * Lets job webhooks target loopback and private addresses, for local development and tests only;
   * production always refuses them (SSRF).
   */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  /**
   * How long a replica's start may wait for the provider to find it a machine (an ECS task waiting on
   * its capacity provider) before the next GPU type in the deployment's list is tried.
   */
  PLACEMENT_TIMEOUT_SECONDS: z.coerce.number().int().min(60).max(3600).default(600),
  /** How long a leased job stays a worker's without a sign of life before it is re-queued. */
  WORKER_LEASE_SECONDS: z.coerce.number().int().min(2).max(600).default(30),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type EdgeConfig = z.infer<typeof edgeEnvSchema>;

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`);
}

export function parseEdgeConfig(env: Record<string, unknown>): EdgeConfig {
  const result = edgeEnvSchema.safeParse(env);
  if (!result.success) throw new ConfigurationError(describeIssues(result.error));
  const config = result.data;
  const issues: string[] = [];
  if (config.COMPUTE_PROVIDER === 'local' && !config.LOCAL_COMPUTE_URL) {
    issues.push('LOCAL_COMPUTE_URL is required when COMPUTE_PROVIDER=local, e.g. http://127.0.0.1:8081');
  }
  const required = {
    local: [],
    ecs: [
      'AWS_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'ECS_CLUSTER',
      'ECS_CAPACITY_PROVIDERS',
      'ECS_TASK_DEFINITIONS',
      'ECS_SUBNETS',
      'ECS_SECURITY_GROUPS',
    ],
    ec2: ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'EC2_LAUNCH_TEMPLATES', 'EC2_IMAGES'],
  } as const;
  for (const name of required[config.COMPUTE_PROVIDER]) {
    if (config[name] === undefined)
      issues.push(`${name} is required when COMPUTE_PROVIDER=${config.COMPUTE_PROVIDER}`);
  }
  if (config.ENVIRONMENT === 'production' && config.WEBHOOK_ALLOW_PRIVATE_TARGETS) {
    issues.push('WEBHOOK_ALLOW_PRIVATE_TARGETS must not be true in production (it opens SSRF)');
  }
  if (config.ENVIRONMENT === 'production' && config.STRIPE_API_URL) {
    issues.push('STRIPE_API_URL must not be set in production (payments would not reach Stripe)');
  }
  if (config.ENVIRONMENT === 'production' && config.STRIPE_SECRET_KEY.includes('_test_')) {
    issues.push('STRIPE_SECRET_KEY is a test-mode key; production takes real payments (sk_live_…)');
  }
  if (config.ENVIRONMENT === 'production' && config.NEON_PROXY_URL) {
    issues.push('NEON_PROXY_URL must not be set in production (it disables TLS to the database)');
  }
  if (issues.length > 0) throw new ConfigurationError(issues);
  return config;
}

const cache = new WeakMap<object, EdgeConfig>();

/** Workers hand the same env object to every request of an isolate, so it is parsed once. */
export function edgeConfigFor(env: object): EdgeConfig {
  const cached = cache.get(env);
  if (cached) return cached;
  const config = parseEdgeConfig(env as Record<string, unknown>);
  cache.set(env, config);
  return config;
}
