/**
 * A bench user set up the way a customer is, through the public API of a running stack: sign up,
 * verify by the mail outbox, log in, add funds through the local Stripe checkout, deploy.
 */

const PASSWORD = 'bench correct horse battery staple';

export interface BenchStack {
  edge: string;
  mailOutbox: string;
}

export interface Deployment {
  id: string;
  /** A deployment key with a rate limit far above what one machine can send. */
  key: string;
  keyId: string;
}

export async function api<T>(
  stack: BenchStack,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
) {
  const response = await fetch(`${stack.edge}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : null) as T;
}

export async function poll<T>(
  what: string,
  read: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Signs up and verifies a new user; answers an access token. */
export async function signUp(stack: BenchStack): Promise<string> {
  const email = `bench-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  await api(stack, 'POST', '/api/auth/register', { email, password: PASSWORD });
  const token = await poll('the verification email', async () => {
    const mail = (await (
      await fetch(`${stack.mailOutbox}/outbox?to=${encodeURIComponent(email)}`)
    ).json()) as {
      data: { text?: string }[];
    };
    return /verify-email\?token=([\w-]+)/.exec(mail.data[0]?.text ?? '')?.[1];
  });
  await api(stack, 'POST', '/api/auth/verify-email', { token, password: PASSWORD });
  const login = await api<{ access_token: string }>(stack, 'POST', '/api/auth/login', {
    email,
    password: PASSWORD,
  });
  return login.access_token;
}

/** The organization's balance in dollars, as the billing page shows it. */
export async function balanceUsd(stack: BenchStack, token: string): Promise<number> {
  return (await api<{ balance_usd: number }>(stack, 'GET', '/api/billing/balance', undefined, token))
    .balance_usd;
}

/**
 * Pays a Checkout on the local Stripe with the test card and waits for the webhook's credit (the
 * statement line of the payment); answers the balance after it.
 */
export async function addFunds(stack: BenchStack, token: string, dollars: number): Promise<number> {
  const checkout = await api<{ id: string; checkout_url: string }>(
    stack,
    'POST',
    '/api/billing/add-funds',
    { amount_cents: dollars * 100, currency: 'usd' },
    token,
  );
  const paid = await fetch(`${checkout.checkout_url}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ card: '4242424242424242' }),
    redirect: 'manual',
  });
  if (paid.status >= 400) throw new Error(`the local checkout refused the test card (${paid.status})`);
  await poll('the payment webhook', async () => {
    const statement = await api<{ data: { reference: string | null }[] }>(
      stack,
      'GET',
      '/api/billing/transactions?limit=100',
      undefined,
      token,
    );
    return statement.data.some((line) => line.reference === checkout.id) ? true : undefined;
  });
  return balanceUsd(stack, token);
}

/** Deploys a catalog model, with a deployment key without a practical rate limit. */
export async function deploy(
  stack: BenchStack,
  token: string,
  knobs: { replicas: number; concurrencyPerReplica: number; minReplicas?: number },
): Promise<Deployment> {
  const created = await api<{ id: string }>(
    stack,
    'POST',
    '/api/deployments',
    {
      model: 'llama-3.1-8b-instruct',
      min_replicas: knobs.minReplicas ?? knobs.replicas,
      max_replicas: knobs.replicas,
      concurrency_per_replica: knobs.concurrencyPerReplica,
    },
    token,
  );
  const key = await api<{ id: string; key: string }>(
    stack,
    'POST',
    '/api/auth/api-keys',
    { name: 'bench', kind: 'deployment', endpoint_id: created.id, rate_limit_per_minute: 1_000_000 },
    token,
  );
  return { id: created.id, key: key.key, keyId: key.id };
}

/** Waits until the deployment has `count` active replicas. */
export async function waitForReplicas(stack: BenchStack, token: string, id: string, count: number) {
  await poll(
    `${count} active replica(s)`,
    async () => {
      const detail = await api<{ runtime: { replicas: { active: number } } }>(
        stack,
        'GET',
        `/api/deployments/${id}`,
        undefined,
        token,
      );
      return detail.runtime.replicas.active >= count ? true : undefined;
    },
    120_000,
  );
}

/**
 * Sends one chat completion to the edge as the bench's and drills' clients do: `idempotencyKey` makes
 * a retry join the first job; `body` adds to (or replaces) the default request.
 */
export function sendChat(
  edge: string,
  key: string,
  options: { idempotencyKey?: string; body?: Record<string, unknown>; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${edge}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${key}`,
      ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
    },
    body: JSON.stringify({
      model: 'llama-3.1-8b-instruct',
      messages: [{ role: 'user', content: 'hi' }],
      ...options.body,
    }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/**
 * Deploys a catalog model kept at `replicas` warm replicas (see `deploy`), wakes it with one request
 * (the orchestrator reacts to it) and waits until all of them are active.
 */
export async function deployWarm(
  stack: BenchStack,
  token: string,
  knobs: { replicas: number; concurrencyPerReplica: number },
): Promise<Deployment> {
  const deployment = await deploy(stack, token, knobs);
  const response = await sendChat(stack.edge, deployment.key, {
    body: { messages: [{ role: 'user', content: 'wake' }] },
  });
  await response.arrayBuffer();
  await waitForReplicas(stack, token, deployment.id, knobs.replicas);
  return deployment;
}

/** What an API key's requests have spent today (UTC), in micro-dollars, as its page shows it. */
export async function keySpendMicroUsd(stack: BenchStack, token: string, keyId: string): Promise<number> {
  const key = await api<{ spend: { today_usd: number } }>(
    stack,
    'GET',
    `/api/auth/api-keys/${keyId}`,
    undefined,
    token,
  );
  return Math.round(key.spend.today_usd * 1_000_000);
}
