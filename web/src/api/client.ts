import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema.ts';

/** The OpenAI-shaped error every API route answers with. */
export class ApiError extends Error {
  readonly status: number;
  readonly param: string | null;
  readonly code: string | null;

  constructor(status: number, body: unknown) {
    const error = (body as { error?: { message?: string; param?: string | null; code?: string | null } })
      ?.error;
    super(error?.message ?? `Request failed (${status})`);
    this.status = status;
    this.param = error?.param ?? null;
    this.code = error?.code ?? null;
  }
}

const ORG_KEY = 'aicloud.org';
export const currentOrg = () => localStorage.getItem(ORG_KEY);
export const chooseOrg = (orgId: string) => localStorage.setItem(ORG_KEY, orgId);

let refreshing: Promise<boolean> | null = null;
/** One refresh for every request that found the 15-minute access token expired at once. */
function refreshSession(): Promise<boolean> {
  refreshing ??= fetch('/api/auth/refresh', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
    .then((response) => response.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** A copy of each request, kept to send again once an expired session has been refreshed. */
const copies = new WeakMap<Request, Request>();

/** Session cookies ride along; the chosen org goes as `x-org-id`; an expired session refreshes once. */
const session: Middleware = {
  onRequest({ request }) {
    const org = currentOrg();
    if (org && !request.headers.has('x-org-id')) request.headers.set('x-org-id', org);
    copies.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response }) {
    const copy = copies.get(request);
    if (response.status !== 401 || request.url.includes('/api/auth/') || !copy) return response;
    if (!(await refreshSession())) return response;
    return fetch(copy);
  },
};

export const api = createClient<paths>({ baseUrl: '/', credentials: 'same-origin' });
api.use(session);

/** Unwraps an openapi-fetch result: the data, or an ApiError with the API's message and field. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) throw new ApiError(response.status, error);
  return data;
}
