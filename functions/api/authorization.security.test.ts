import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, jobs, memberships, users, webhookDeliveries } from '../../db/schema/index.ts';
import { encodeWav } from '../../gpu-workers/engines/dev/encode.ts';
import { insertEndpoint, testDatabase } from '../../tests/harness/db.ts';
import { app, call, PASSWORD, signUp, uniqueEmail } from '../../tests/harness/edge.ts';
import { hashPassword } from '../core/auth/passwords.ts';
import { newId } from '../core/ids.ts';
import { type Permission, roleAllows } from '../core/orgs/permissions.ts';
import { ROLES, type Role } from '../core/orgs/roles.ts';

/**
 * Every authenticated route × every kind of caller × own / foreign / deleted ids. A caller gets 2xx
 * only where the permission table allows its role and the id is its own org's; everything else is the
 * precise refusal (401 no or dead credential, 403 role or key kind, 404 other org's or deleted ids).
 */
const database = testDatabase();
afterAll(() => database.close());

type IdKind = 'apiKey' | 'member' | 'invitation' | 'deployment' | 'job' | 'delivery';
type Variant = 'own' | 'foreign' | 'deleted';

interface RouteSpec {
  /**
   * What the caller needs: a permission of the table, a signed-in person (`user`), or inference
   * rights (`inference`: the permission for people and account keys, or a key bound to the endpoint).
   */
  needs: Permission | 'user' | 'inference';
  id?: IdKind;
  body?: () => unknown;
  /**
   * What an allowed call answers, when not the method's usual (GET/PATCH 200, POST 201, DELETE 204);
   * also a refusal by a business rule (a made-up token, an already verified address).
   */
  ok?: number;
  /** Would destroy the shared fixture: only the refusals are checked (the happy tests cover it). */
  destructive?: boolean;
  /** Appended to the path (a stream told to end at once). */
  query?: string;
}

const ROUTES: Record<string, RouteSpec> = {
  'GET /api/auth/me': { needs: 'user' },
  'GET /api/auth/sessions': { needs: 'user' },
  // A wrong current password: refused as bad input once the caller may try (the happy test changes one).
  'POST /api/auth/password': {
    needs: 'user',
    body: () => ({ current_password: 'not the password', new_password: 'a matrix passphrase' }),
    ok: 400,
  },
  // Each caller's other sessions: there are none, so nothing of the fixture ends.
  'POST /api/auth/sessions/revoke-others': { needs: 'user', ok: 200 },
  // A person's own sessions, not an org's: the happy and error tests cover own and foreign ids.
  'DELETE /api/auth/sessions/{id}': { needs: 'user', ok: 200, destructive: true },
  'POST /api/auth/verify-email/resend': { needs: 'user', ok: 409 },
  'GET /api/auth/api-keys': { needs: 'api_key.read' },
  'POST /api/auth/api-keys': { needs: 'api_key.manage', body: () => ({ name: 'matrix', role: 'viewer' }) },
  'GET /api/auth/api-keys/{id}': { needs: 'api_key.read', id: 'apiKey' },
  'PATCH /api/auth/api-keys/{id}': {
    needs: 'api_key.manage',
    id: 'apiKey',
    body: () => ({ spend_cap: { daily_cents: 1000 } }),
  },
  'DELETE /api/auth/api-keys/{id}': { needs: 'api_key.manage', id: 'apiKey', ok: 200 },
  'POST /api/auth/api-keys/{id}/regenerate': { needs: 'api_key.manage', id: 'apiKey' },
  'GET /api/orgs': { needs: 'user' },
  'POST /api/orgs': { needs: 'user', body: () => ({ name: 'Matrix team' }) },
  'GET /api/org': { needs: 'org.read' },
  'PATCH /api/org': { needs: 'org.update', body: () => ({ name: 'Matrix org' }) },
  'DELETE /api/org': { needs: 'org.delete', destructive: true },
  'GET /api/org/members': { needs: 'member.read' },
  'PATCH /api/org/members/{user_id}': {
    needs: 'member.manage',
    id: 'member',
    body: () => ({ role: 'viewer' }),
  },
  'DELETE /api/org/members/{user_id}': { needs: 'member.manage', id: 'member' },
  'GET /api/org/invitations': { needs: 'invitation.read' },
  'POST /api/org/invitations': {
    needs: 'invitation.manage',
    body: () => ({ email: uniqueEmail('matrix-invite'), role: 'viewer' }),
  },
  'DELETE /api/org/invitations/{id}': { needs: 'invitation.manage', id: 'invitation' },
  'POST /api/invitations/accept': {
    needs: 'user',
    body: () => ({ token: 'A'.repeat(43) }),
    ok: 400,
  },
  'GET /api/audit': { needs: 'audit.read' },
  'GET /api/billing/balance': { needs: 'billing.read' },
  'GET /api/billing/transactions': { needs: 'billing.read' },
  'POST /api/billing/add-funds': { needs: 'billing.manage', body: () => ({ amount_cents: 2500 }), ok: 201 },
  'POST /api/billing/portal': { needs: 'billing.manage', ok: 200 },
  'GET /api/billing/settings': { needs: 'billing.read' },
  'GET /api/billing/usage': { needs: 'billing.read' },
  'PUT /api/billing/settings': {
    needs: 'billing.manage',
    body: () => ({ alert_thresholds_cents: [1000, 0] }),
  },
  'POST /api/deployments': { needs: 'endpoint.manage', body: () => ({ model: 'llama-3.1-8b-instruct' }) },
  'GET /api/deployments': { needs: 'endpoint.read' },
  'GET /api/deployments/{id}': { needs: 'endpoint.read', id: 'deployment' },
  'PATCH /api/deployments/{id}': {
    needs: 'endpoint.manage',
    id: 'deployment',
    body: () => ({ max_replicas: 2 }),
  },
  'POST /api/deployments/{id}/stop': { needs: 'endpoint.manage', id: 'deployment', ok: 200 },
  'POST /api/deployments/{id}/start': { needs: 'endpoint.manage', id: 'deployment', ok: 200 },
  'DELETE /api/deployments/{id}': { needs: 'endpoint.manage', id: 'deployment' },
  'GET /api/deployments/{id}/metrics': { needs: 'endpoint.read', id: 'deployment' },
  'GET /api/deployments/{id}/logs': { needs: 'endpoint.read', id: 'deployment' },
  'GET /api/deployments/{id}/events': { needs: 'endpoint.read', id: 'deployment' },
  'GET /api/deployments/{id}/events/stream': {
    needs: 'endpoint.read',
    id: 'deployment',
    query: '?timeout_seconds=0',
  },
  // The fixture deployment is stopped, so an allowed call is refused at once (409) instead of waiting.
  'POST /v1/chat/completions': {
    needs: 'inference',
    body: () => ({ model: fixture.inferenceModel, messages: [{ role: 'user', content: 'hi' }] }),
    ok: 409,
  },
  'GET /v1/models': { needs: 'inference', ok: 200 },
  'POST /v1/completions': {
    needs: 'inference',
    body: () => ({ model: fixture.inferenceModel, prompt: 'hi' }),
    ok: 409,
  },
  'POST /v1/embeddings': {
    needs: 'inference',
    body: () => ({ model: fixture.inferenceModel, input: 'hi' }),
    ok: 409,
  },
  'POST /v1/audio/transcriptions': { needs: 'inference', body: () => audioForm(), ok: 409 },
  'POST /v1/audio/translations': { needs: 'inference', body: () => audioForm(), ok: 409 },
  'POST /v1/audio/speech': {
    needs: 'inference',
    body: () => ({ model: fixture.inferenceModel, input: 'hi', voice: 'alloy' }),
    ok: 409,
  },
  'POST /v1/images/generations': {
    needs: 'inference',
    body: () => ({ model: fixture.inferenceModel, prompt: 'hi' }),
    ok: 409,
  },
  'GET /api/org/webhook-secret': { needs: 'org.update' },
  'POST /api/org/webhook-secret/rotate': { needs: 'org.update', ok: 200 },
  'GET /v1/jobs/{id}': { needs: 'inference', id: 'job', ok: 200 },
  'GET /api/webhook-deliveries': { needs: 'endpoint.read' },
  'GET /api/jobs': { needs: 'endpoint.read' },
  'POST /api/webhook-deliveries/{id}/replay': { needs: 'endpoint.manage', id: 'delivery', ok: 202 },
  'POST /v1/jobs/{id}/cancel': { needs: 'inference', id: 'job', ok: 200 },
};

/** Routes anyone may call: they authenticate by what they are sent (password, emailed token). */
const PUBLIC = new Set([
  'POST /api/auth/register',
  'POST /api/auth/login',
  // Stripe's: authenticated by its signature (stripe-webhook.security.test.ts).
  'POST /api/stripe/webhook',
  'POST /api/auth/refresh',
  'POST /api/auth/logout',
  'POST /api/auth/verify-email',
  'POST /api/auth/password-reset',
  'POST /api/auth/password-reset/confirm',
  'GET /health',
  'GET /api/models',
  'GET /api/models/categories',
  'GET /api/models/{slug}',
  'GET /api/gpus',
  // The signed link is the permission (checked in media.happy.test.ts).
  'GET /v1/files/{job}/{name}',
]);

/** A multipart transcription request: one second of silence as WAV. */
function audioForm() {
  const form = new FormData();
  form.set('file', new File([encodeWav(new Int16Array(16_000), 16_000)], 'a.wav', { type: 'audio/wav' }));
  form.set('model', fixture.inferenceModel);
  return form;
}

type Caller =
  | { label: string; kind: 'session'; role: Role; token: string; org?: string }
  | { label: string; kind: 'account_key'; role: Role; token: string }
  | {
      label: string;
      kind: 'deployment_key' | 'revoked_key' | 'none' | 'foreign_org';
      token?: string;
      org?: string;
    };

interface Fixture {
  orgA: string;
  /** The stopped deployment inference calls name (the deployment key's own). */
  inferenceModel: string;
  ownerToken: string;
  callers: Caller[];
  foreign: Record<IdKind, string>;
  deleted: Record<IdKind, string>;
}

let fixture: Fixture;
let passwordHash: string;

/** A user who is a member of `orgId` with `role`, made directly in the database (no emails needed). */
async function addMember(orgId: string, role: Role) {
  const userId = newId('user');
  const email = uniqueEmail(`member-${role}`);
  await database.db.insert(users).values({ id: userId, email, passwordHash, emailVerifiedAt: new Date() });
  await database.db.insert(memberships).values({ orgId, userId, role });
  return { userId, email };
}

async function login(email: string) {
  const response = await call('POST', '/api/auth/login', {
    body: { email, password: PASSWORD },
    headers: { 'cf-connecting-ip': `192.0.2.${Math.floor(Math.random() * 250) + 1}` },
  });
  return response.body.access_token as string;
}

/** An async job on record (as `POST /v1/chat/completions` with a webhook leaves one). */
async function insertJob(orgId: string, endpointId: string) {
  const id = newId('job');
  await database.db
    .insert(jobs)
    .values({ id, orgId, endpointId, kind: 'chat.completion', input: { messages: [] } });
  return id;
}

async function insertDelivery(orgId: string, endpointId: string) {
  const jobId = await insertJob(orgId, endpointId);
  const [row] = await database.db
    .insert(webhookDeliveries)
    .values({ orgId, jobId, event: 'job.succeeded', url: 'https://hooks.example.com/x' })
    .returning({ id: webhookDeliveries.id });
  return row?.id ?? '';
}

async function freshOwnId(kind: IdKind): Promise<string> {
  const { orgA, ownerToken } = fixture;
  if (kind === 'apiKey') {
    return (
      await call('POST', '/api/auth/api-keys', {
        token: ownerToken,
        org: orgA,
        body: { name: 'target', role: 'viewer' },
      })
    ).body.id;
  }
  if (kind === 'invitation') {
    return (
      await call('POST', '/api/org/invitations', {
        token: ownerToken,
        org: orgA,
        body: { email: uniqueEmail('target'), role: 'viewer' },
      })
    ).body.id;
  }
  if (kind === 'job') return insertJob(orgA, fixture.inferenceModel);
  if (kind === 'delivery') return insertDelivery(orgA, fixture.inferenceModel);
  if (kind === 'deployment') {
    return (
      await call('POST', '/api/deployments', {
        token: ownerToken,
        org: orgA,
        body: { model: 'mistral-7b-instruct-v0.3' },
      })
    ).body.id;
  }
  return (await addMember(orgA, 'viewer')).userId;
}

beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD);
  const ownerA = await signUp('matrix-owner-a');
  const ownerB = await signUp('matrix-owner-b');
  const orgA = (await call('POST', '/api/orgs', { token: ownerA.token, body: { name: 'Org A' } })).body.id;
  const orgB = (await call('POST', '/api/orgs', { token: ownerB.token, body: { name: 'Org B' } })).body.id;

  const callers: Caller[] = [];
  for (const role of ROLES) {
    const token = role === 'owner' ? ownerA.token : await login((await addMember(orgA, role)).email);
    callers.push({ label: `session:${role}`, kind: 'session', role, token, org: orgA });
    const key = await call('POST', '/api/auth/api-keys', {
      token: ownerA.token,
      org: orgA,
      body: { name: `k-${role}`, role },
    });
    callers.push({ label: `sk_live:${role}`, kind: 'account_key', role, token: key.body.key });
  }
  const endpointId = await insertEndpoint(database.db, orgA);
  const deployment = await call('POST', '/api/auth/api-keys', {
    token: ownerA.token,
    org: orgA,
    body: { name: 'dep', kind: 'deployment', endpoint_id: endpointId },
  });
  callers.push({ label: 'sk_dep', kind: 'deployment_key', token: deployment.body.key });
  await database.db.update(endpoints).set({ state: 'stopped' }).where(eq(endpoints.id, endpointId));
  const revoked = await call('POST', '/api/auth/api-keys', {
    token: ownerA.token,
    org: orgA,
    body: { name: 'dead' },
  });
  await call('DELETE', `/api/auth/api-keys/${revoked.body.id}`, { token: ownerA.token, org: orgA });
  callers.push({ label: 'revoked sk_live', kind: 'revoked_key', token: revoked.body.key });
  callers.push({ label: 'no credential', kind: 'none' });
  callers.push({ label: 'owner of A acting in B', kind: 'foreign_org', token: ownerA.token, org: orgB });

  const foreignKey = (
    await call('POST', '/api/auth/api-keys', { token: ownerB.token, org: orgB, body: { name: 'b' } })
  ).body.id;
  const foreignInvitation = (
    await call('POST', '/api/org/invitations', {
      token: ownerB.token,
      org: orgB,
      body: { email: uniqueEmail('b'), role: 'viewer' },
    })
  ).body.id;
  const foreignMember = (await addMember(orgB, 'viewer')).userId;
  const goneInvitation = (
    await call('POST', '/api/org/invitations', {
      token: ownerA.token,
      org: orgA,
      body: { email: uniqueEmail('gone'), role: 'viewer' },
    })
  ).body.id;
  await call('DELETE', `/api/org/invitations/${goneInvitation}`, { token: ownerA.token, org: orgA });
  const foreignDeployment = (
    await call('POST', '/api/deployments', {
      token: ownerB.token,
      org: orgB,
      body: { model: 'mistral-7b-instruct-v0.3' },
    })
  ).body.id;
  const goneDeployment = (
    await call('POST', '/api/deployments', {
      token: ownerA.token,
      org: orgA,
      body: { model: 'mistral-7b-instruct-v0.3' },
    })
  ).body.id;
  await call('DELETE', `/api/deployments/${goneDeployment}`, { token: ownerA.token, org: orgA });
  const goneMember = (await addMember(orgA, 'viewer')).userId;
  await database.db
    .delete(memberships)
    .where(and(eq(memberships.orgId, orgA), eq(memberships.userId, goneMember)));

  fixture = {
    orgA,
    inferenceModel: endpointId,
    ownerToken: ownerA.token,
    callers,
    foreign: {
      job: await insertJob(orgB, foreignDeployment),
      delivery: await insertDelivery(orgB, foreignDeployment),
      apiKey: foreignKey,
      invitation: foreignInvitation,
      member: foreignMember,
      deployment: foreignDeployment,
    },
    deleted: {
      job: newId('job'),
      delivery: newId('webhookDelivery'),
      apiKey: revoked.body.id,
      invitation: goneInvitation,
      member: goneMember,
      deployment: goneDeployment,
    },
  };
}, 120_000);

const USUAL_SUCCESS: Record<string, number> = { GET: 200, PATCH: 200, POST: 201, DELETE: 204 };

function expectedStatus(caller: Caller, spec: RouteSpec, variant: Variant, method: string): number {
  if (caller.kind === 'none' || caller.kind === 'revoked_key') return 401;
  if (caller.kind === 'foreign_org') return 404;
  if (spec.needs === 'inference') {
    if (caller.kind === 'deployment_key') return variant === 'own' ? (spec.ok ?? 200) : 404;
    if (caller.kind !== 'session' && caller.kind !== 'account_key') return 403;
    if (!roleAllows(caller.role, 'inference.invoke')) return 403;
  } else {
    if (caller.kind !== 'session' && caller.kind !== 'account_key') return 403;
    if (spec.needs === 'user' ? caller.kind !== 'session' : !roleAllows(caller.role, spec.needs)) return 403;
  }
  if (variant !== 'own') return 404;
  return spec.ok ?? USUAL_SUCCESS[method] ?? 200;
}

describe('authorization matrix', () => {
  it('classifies every route of the OpenAPI document', () => {
    const document = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } });
    const routes = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
      Object.keys(item ?? {}).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const unclassified = routes.filter((route) => !(route in ROUTES) && !PUBLIC.has(route));
    expect(unclassified).toEqual([]);
  });

  it('gives 2xx exactly where the role, key kind and org allow it', async () => {
    const unexpected: string[] = [];
    let checked = 0;
    for (const [route, spec] of Object.entries(ROUTES)) {
      const [method = 'GET', template = ''] = route.split(' ');
      const variants: Variant[] = spec.id ? ['own', 'foreign', 'deleted'] : ['own'];
      for (const caller of fixture.callers) {
        for (const variant of variants) {
          const expected = expectedStatus(caller, spec, variant, method);
          if (spec.destructive && expected < 300) continue;
          let path = template;
          if (spec.id) {
            const id = variant === 'own' ? await freshOwnId(spec.id) : fixture[variant][spec.id];
            path = template.replace(/\{[a-z_]+\}/, id);
          }
          path += spec.query ?? '';
          const response = await call(method, path, {
            token: caller.token,
            org: 'org' in caller ? caller.org : undefined,
            body: spec.body?.() ?? (method === 'POST' || method === 'PATCH' ? {} : undefined),
          });
          checked++;
          if (response.status !== expected) {
            unexpected.push(
              `${route} as ${caller.label} (${variant} id): ${response.status}, expected ${expected}`,
            );
          }
          if (response.status < 300 && expected >= 300)
            unexpected.push(`UNEXPECTED 2xx: ${route} as ${caller.label}`);
          if (response.status >= 400)
            expect(response.body.error).toMatchObject({ type: expect.any(String), code: expect.any(String) });
        }
      }
    }
    expect(unexpected).toEqual([]);
    expect(checked).toBeGreaterThan(400);
  }, 300_000);
});
