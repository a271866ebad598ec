import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** Storage as a browser tab has it. */
const storage = () => {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const ORG_GONE = {
  error: { message: 'Organization not found.', type: 'not_found_error', param: 'x-org-id', code: null },
};

let sent: { url: string; method: string; org: string | null }[];
let answer: (url: string, method: string) => Response;

/** The client module as a tab loads it, over the given storages. */
async function loadClient(session = storage(), local = storage()) {
  vi.resetModules();
  vi.stubGlobal('sessionStorage', session);
  vi.stubGlobal('localStorage', local);
  vi.stubGlobal('window', { location: { origin: 'https://app.example' } });
  return { client: await import('./client.ts'), session, local };
}

beforeEach(() => {
  sent = [];
  answer = () => json(200, {});
  vi.stubGlobal('fetch', async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input), 'https://app.example').pathname;
    const method = (init.method ?? 'GET').toUpperCase();
    sent.push({ url, method, org: new Headers(init.headers).get('x-org-id') });
    return answer(url, method);
  });
});
afterEach(() => vi.unstubAllGlobals());

describe('the dashboard API client', () => {
  it('acts in the org this tab chose, whatever another tab chooses later', async () => {
    const local = storage();
    local.setItem('aicloud.org', 'org_team');
    const { client } = await loadClient(storage(), local);
    // A new tab starts in the org last chosen anywhere.
    expect(client.currentOrg()).toBe('org_team');
    client.chooseOrg('org_acme');
    // Another tab switches to the personal org: shared storage changes, this tab does not.
    local.removeItem('aicloud.org');
    await client.api.deployments.$get({ query: {} });
    expect(sent.at(-1)?.org).toBe('org_acme');
  });

  it('asks a read again of the personal org when the chosen org is gone, but never a write', async () => {
    const local = storage();
    local.setItem('aicloud.org', 'org_left');
    const { client } = await loadClient(storage(), local);
    answer = (_url, method) =>
      sent.filter((call) => call.method === method).length === 1
        ? json(404, ORG_GONE)
        : json(200, { data: [] });
    const read = await client.api.deployments.$get({ query: {} });
    expect(read.status).toBe(200);
    expect(sent.map((call) => call.org)).toEqual(['org_left', null]);
    expect(client.currentOrg()).toBeNull();

    sent = [];
    client.chooseOrg('org_left');
    const write = await client.api.deployments.$post({ json: { model: 'llama-3.1-8b-instruct' } });
    // Refused where it was meant to go, not created in another org.
    expect(write.status).toBe(404);
    expect(sent).toEqual([{ url: '/api/deployments', method: 'POST', org: 'org_left' }]);
  });

  it('reports a session over for good once its refresh is refused, and not a wrong password', async () => {
    const { client } = await loadClient();
    const ended = vi.fn();
    client.onSessionEnded(ended);
    answer = () => json(401, { error: { message: 'Your session has ended. Log in again.' } });
    await client.api.deployments.$get({ query: {} });
    expect(sent.map((call) => call.url)).toEqual(['/api/deployments', '/api/auth/refresh']);
    expect(ended).toHaveBeenCalledTimes(1);
    await client.api.auth.login.$post({ json: { email: 'ada@example.com', password: 'wrong password!' } });
    expect(ended).toHaveBeenCalledTimes(1);
  });
});
