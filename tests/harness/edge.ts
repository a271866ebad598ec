import { inject } from 'vitest';
import { createApp } from '../../functions/app.ts';

/** The Hono app against the shared local cloud, called as a client would (`app.request`). */
export const app = createApp();
export const env = inject('edgeEnv');
const outboxUrl = inject('mailOutboxUrl');

/**
 * A distinct client address per test user, so per-IP throttles (20 sign-ups an hour) do not couple
 * unrelated tests: random in 198.18.0.0/15 (reserved for testing), since test files run in parallel
 * processes that share the throttle.
 */
export const freshIp = () =>
  `198.${18 + Math.floor(Math.random() * 2)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;

export interface CallOptions {
  body?: unknown;
  token?: string | undefined;
  org?: string | undefined;
  headers?: Record<string, string>;
}

export async function call(method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  const form = options.body instanceof FormData;
  // A form sets its own multipart content type (with the boundary).
  if (options.body !== undefined && !form) headers['content-type'] ??= 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.org) headers['x-org-id'] = options.org;
  const response = await app.request(
    path,
    {
      method,
      headers,
      body:
        options.body === undefined
          ? undefined
          : options.body instanceof FormData || typeof options.body === 'string'
            ? options.body
            : JSON.stringify(options.body),
    },
    env,
  );
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are asserted field by field.
  return { status: response.status, headers: response.headers, body: json as any };
}

interface OutboxEmail {
  to: string[];
  subject: string;
  text: string;
}

/** Emails the platform sent to `to`, newest first. */
export async function outbox(to: string): Promise<OutboxEmail[]> {
  const response = await fetch(`${outboxUrl}/outbox?to=${encodeURIComponent(to)}`);
  return ((await response.json()) as { data: OutboxEmail[] }).data;
}

/** The token of the newest emailed link of `path` (`/verify-email`, `/reset-password`, …). */
export async function linkToken(to: string, path: string): Promise<string> {
  for (const email of await outbox(to)) {
    const match = new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(email.text);
    if (match?.[1]) return match[1];
  }
  throw new Error(`no ${path} link emailed to ${to}`);
}

export const uniqueEmail = (label: string) =>
  `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;

export const PASSWORD = 'correct horse battery staple';

export interface SignedInUser {
  email: string;
  userId: string;
  sessionId: string;
  token: string;
  refreshToken: string;
  ip: string;
}

/** Registers, verifies by the emailed link (unless told not to) and logs in. */
export async function signUp(label: string, options: { verify?: boolean } = {}): Promise<SignedInUser> {
  const email = uniqueEmail(label);
  const ip = freshIp();
  const headers = { 'cf-connecting-ip': ip };
  const registered = await call('POST', '/api/auth/register', {
    body: { email, password: PASSWORD },
    headers,
  });
  if (registered.status !== 202) throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
  if (options.verify !== false) {
    const verified = await call('POST', '/api/auth/verify-email', {
      body: { token: await linkToken(email, '/verify-email'), password: PASSWORD },
      headers,
    });
    if (verified.status !== 200) throw new Error(`verify failed: ${JSON.stringify(verified.body)}`);
  }
  const login = await call('POST', '/api/auth/login', { body: { email, password: PASSWORD }, headers });
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  return {
    email,
    userId: login.body.user_id,
    sessionId: login.body.session_id,
    token: login.body.access_token,
    refreshToken: login.body.refresh_token,
    ip,
  };
}
