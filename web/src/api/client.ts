import { type ClientResponse, hc } from 'hono/client';
import type { SuccessStatusCode } from 'hono/utils/http-status';
import type { App } from '../../../functions/app.ts';

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
/**
 * The org this tab acts in. Per tab (session storage): a switch in another tab must not move this
 * tab's next payment, deployment or key into an org other than the one it shows. A new tab starts in
 * the org last chosen anywhere (local storage).
 */
let tabOrg: string | null = sessionStorage.getItem(ORG_KEY) ?? localStorage.getItem(ORG_KEY);
export const currentOrg = () => tabOrg;
export const chooseOrg = (orgId: string) => {
  tabOrg = orgId;
  sessionStorage.setItem(ORG_KEY, orgId);
  localStorage.setItem(ORG_KEY, orgId);
};
/** Back to the personal org: on sign-out, and when the chosen one is gone (left, removed, deleted). */
export const forgetOrg = () => {
  tabOrg = null;
  sessionStorage.removeItem(ORG_KEY);
  localStorage.removeItem(ORG_KEY);
};

/** The API refused the chosen org: this user is no longer in it, or it was deleted. */
async function refusesOrg(response: Response): Promise<boolean> {
  if (response.status !== 404) return false;
  const body = (await response
    .clone()
    .json()
    .catch(() => null)) as { error?: { param?: string } } | null;
  return body?.error?.param === 'x-org-id';
}

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

/**
 * Calls that sign in or out, or are the refresh itself: their 401 is the answer (a wrong password, a
 * spent link), not an expired session. Every other call under /api/auth (`/me`, the API keys) refreshes.
 */
const CREDENTIAL_CALLS = /^\/api\/auth\/(login|register|refresh|logout|password-reset|verify-email)(\/|$)/;

/** Session cookies ride along; the chosen org goes as `x-org-id`; an expired session refreshes once. */
async function sessionFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const org = currentOrg();
  const chosen = org !== null && !headers.has('x-org-id');
  if (chosen) headers.set('x-org-id', org);
  // hc sends JSON bodies as strings, so the request can be sent again as it was.
  const send = () => fetch(input, { ...init, headers, credentials: 'same-origin' });
  let response = await send();
  // A remembered org the user is no longer in would refuse every page, even after logging in again:
  // it is forgotten, and a read is asked again of the personal org. A write is not: it was meant for
  // the org on screen, and its refusal ("not found") is the answer.
  if (chosen && (await refusesOrg(response))) {
    forgetOrg();
    const method = (init.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') return response;
    headers.delete('x-org-id');
    response = await send();
  }
  const url = new URL(input instanceof Request ? input.url : String(input), window.location.origin);
  if (response.status !== 401 || CREDENTIAL_CALLS.test(url.pathname)) return response;
  if (await refreshSession()) return send();
  sessionEnded?.();
  return response;
}

let sessionEnded: (() => void) | undefined;
/**
 * Called when a call finds the session over for good (expired, signed out elsewhere, password changed
 * on another device): the app goes back to sign-in instead of showing the refusal in every card.
 */
export const onSessionEnded = (listener: () => void) => {
  sessionEnded = listener;
};

/** The management API, typed from the edge's Hono routes: `api.deployments[':id'].$get(…)`. */
export const api = hc<App>(window.location.origin, { fetch: sessionFetch }).api;

/**
 * What a call answers on success: the JSON document, or null for an empty (204) answer. A route that
 * can also answer a file (the statement as CSV) lists the file as a string or a Response; no route
 * answers a bare JSON string, so those are left out.
 */
type SuccessBody<R> =
  R extends ClientResponse<infer Body, infer Status, infer Format>
    ? Status extends SuccessStatusCode
      ? Format extends 'json'
        ? Exclude<Body, string | Response>
        : null
      : never
    : never;

/** Awaits a call: its success body, or an ApiError with the API's message and field. */
export async function unwrap<R extends ClientResponse<unknown, number, string>>(
  call: Promise<R>,
): Promise<SuccessBody<R>> {
  const response = await call;
  const body = parseJson(await response.text());
  if (!response.ok || body === undefined) throw new ApiError(response.status, body);
  return body as SuccessBody<R>;
}

/** null for an empty body; undefined when it is not JSON (a proxy's error page, say). */
function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
