import { createRoute, z } from '@hono/zod-openapi';
import { tokenInput } from '../../core/auth/inputs.ts';
import {
  acceptInvitation,
  createInvitation,
  invitationInput,
  listInvitations,
  revokeInvitation,
} from '../../core/orgs/invitations.ts';
import {
  createOrg,
  deleteCurrentOrg,
  getCurrentOrg,
  getWebhookSecret,
  listMyOrgs,
  orgInput,
  rotateOrgWebhookSecret,
  updateCurrentOrg,
} from '../../core/orgs/manage.ts';
import { listMembers, memberRoleInput, removeMember, updateMemberRole } from '../../core/orgs/members.ts';
import { authenticatedRouter } from '../../lib/openapi.ts';
import { reconcileSoon } from '../../lib/orchestrator/nudge.ts';
import { authErrors, bearerSecurity, conflict, jsonRequest, jsonResponse } from '../schemas.ts';

const tags = ['Organizations'];
const security = bearerSecurity;

const WebhookSecretSchema = z
  .object({
    object: z.literal('webhook_secret'),
    secret: z.string(),
    scheme: z.string(),
    previous_secret_expires_at: z
      .string()
      .nullable()
      .openapi({ description: 'After a rotation: until when the old secret still signs deliveries' }),
  })
  .openapi('WebhookSecret');

const OrgSchema = z
  .object({
    id: z.string().openapi({ example: 'org_2ZkQ8pV7nT4sW9xY3bC1dE' }),
    object: z.literal('organization'),
    name: z.string(),
    slug: z.string(),
    personal: z.boolean(),
    role: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Organization');

const MemberSchema = z
  .object({
    object: z.literal('member'),
    user_id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.string(),
    joined_at: z.string(),
  })
  .openapi('Member');

const InvitationSchema = z
  .object({
    id: z.string(),
    object: z.literal('invitation'),
    email: z.string(),
    role: z.string(),
    invited_by_user_id: z.string().nullable(),
    created_at: z.string(),
    expires_at: z.string(),
  })
  .openapi('Invitation');

const list = <T extends z.ZodType>(name: string, item: T) => z.object({ data: z.array(item) }).openapi(name);
const pathId = (name: string, example: string) =>
  z
    .string()
    .max(64)
    .openapi({ param: { name, in: 'path' }, example });

const MemberParams = z.object({ user_id: pathId('user_id', 'usr_2ZkQ8pV7nT4sW9xY3bC1dE') });

/**
 * Orgs a person belongs to (`/orgs`), and the org a request acts in (`/org`): an account key's org,
 * or for a session the org named by `x-org-id` (default: the personal org).
 */
// Mounted at /api: authenticate only these paths, so the public auth routes stay public (`/org/*`
// matches `/org` too).
export const orgsRouter = authenticatedRouter(['/orgs', '/org/*', '/invitations/*'])
  .openapi(
    createRoute({
      method: 'get',
      path: '/orgs',
      tags,
      summary: 'Organizations you belong to',
      security,
      responses: {
        200: jsonResponse('Your organizations', list('OrganizationList', OrgSchema)),
        ...authErrors,
      },
    }),
    async (c) => c.json({ data: await listMyOrgs({ ctx: c.get('services') }) }, 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/orgs',
      tags,
      summary: 'Create a team organization (you become its owner)',
      security,
      request: jsonRequest(orgInput.openapi('OrganizationInput')),
      responses: { 201: jsonResponse('Created', OrgSchema), ...authErrors },
    }),
    async (c) => c.json(await createOrg({ ctx: c.get('services'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/org',
      tags,
      summary: 'The organization this request acts in',
      security,
      responses: { 200: jsonResponse('The organization', OrgSchema), ...authErrors },
    }),
    async (c) => c.json(await getCurrentOrg({ ctx: c.get('services') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/org',
      tags,
      summary: 'Rename the organization',
      security,
      request: jsonRequest(orgInput.openapi('OrganizationInput')),
      responses: { 200: jsonResponse('Updated', OrgSchema), ...authErrors },
    }),
    async (c) => c.json(await updateCurrentOrg({ ctx: c.get('services'), input: c.req.valid('json') }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/org',
      tags,
      summary: 'Delete a team organization',
      description:
        'Owners only. Every API key of the org stops working, its deployments are deleted (their replicas released) and auto-refill is turned off. Personal organizations cannot be deleted.',
      security,
      responses: { 204: { description: 'Deleted' }, ...authErrors, ...conflict },
    }),
    async (c) => {
      const ctx = c.get('services');
      for (const endpointId of await deleteCurrentOrg({ ctx })) reconcileSoon(ctx, endpointId);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/org/members',
      tags,
      summary: 'Members and their roles',
      security,
      responses: { 200: jsonResponse('Members', list('MemberList', MemberSchema)), ...authErrors },
    }),
    async (c) => c.json({ data: await listMembers({ ctx: c.get('services') }) }, 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/org/members/{user_id}',
      tags,
      summary: "Change a member's role",
      description: 'Nobody grants or takes away a role above their own; the last owner cannot be demoted.',
      security,
      request: { params: MemberParams, ...jsonRequest(memberRoleInput.openapi('MemberRoleInput')) },
      responses: { 200: jsonResponse('Updated', MemberSchema), ...authErrors, ...conflict },
    }),
    async (c) =>
      c.json(
        await updateMemberRole({
          ctx: c.get('services'),
          userId: c.req.valid('param').user_id,
          input: c.req.valid('json'),
        }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/org/members/{user_id}',
      tags,
      summary: 'Remove a member, or leave (your own id)',
      description: 'Account keys the member created in this org are revoked with them.',
      security,
      request: { params: MemberParams },
      responses: { 204: { description: 'Removed' }, ...authErrors, ...conflict },
    }),
    async (c) => {
      await removeMember({ ctx: c.get('services'), userId: c.req.valid('param').user_id });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/org/invitations',
      tags,
      summary: 'Invite someone by email',
      description:
        'Emails a link valid for 7 days. Inviting the same address again replaces the open invitation.',
      security,
      request: jsonRequest(invitationInput.openapi('InvitationInput')),
      responses: { 201: jsonResponse('Invited', InvitationSchema), ...authErrors, ...conflict },
    }),
    async (c) => c.json(await createInvitation({ ctx: c.get('services'), input: c.req.valid('json') }), 201),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/org/invitations',
      tags,
      summary: 'Open invitations',
      security,
      responses: {
        200: jsonResponse('Open invitations', list('InvitationList', InvitationSchema)),
        ...authErrors,
      },
    }),
    async (c) => c.json({ data: await listInvitations({ ctx: c.get('services') }) }, 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/org/invitations/{id}',
      tags,
      summary: 'Revoke an invitation',
      security,
      request: { params: z.object({ id: pathId('id', 'inv_2ZkQ8pV7nT4sW9xY3bC1dE') }) },
      responses: { 204: { description: 'Revoked' }, ...authErrors },
    }),
    async (c) => {
      await revokeInvitation({ ctx: c.get('services'), id: c.req.valid('param').id });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/invitations/accept',
      tags,
      summary: 'Accept an invitation with the emailed token',
      description: 'Signed in as the invited, verified address.',
      security,
      request: jsonRequest(z.object({ token: tokenInput }).strict().openapi('AcceptInvitation')),
      responses: {
        200: jsonResponse('Joined', z.object({ org_id: z.string(), role: z.string() }).openapi('Joined')),
        ...authErrors,
        ...conflict,
      },
    }),
    async (c) =>
      c.json(await acceptInvitation({ ctx: c.get('services'), token: c.req.valid('json').token }), 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/org/webhook-secret',
      tags,
      summary: "The secret that signs this organization's job webhooks",
      description:
        'Deliveries carry `webhook-id`, `webhook-timestamp` and `webhook-signature` (Standard Webhooks); verify them with this secret.',
      security,
      responses: { 200: jsonResponse('The secret', WebhookSecretSchema), ...authErrors },
    }),
    async (c) => {
      c.header('cache-control', 'no-store');
      return c.json(await getWebhookSecret({ ctx: c.get('services') }), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/org/webhook-secret/rotate',
      tags,
      summary: "Replace the secret that signs this organization's job webhooks",
      description:
        'For a leaked secret or a departed admin. The old secret keeps signing deliveries beside the new one (two signatures in `webhook-signature`) for 24 hours, so receivers switch without missing one.',
      security,
      responses: { 200: jsonResponse('The new secret', WebhookSecretSchema), ...authErrors },
    }),
    async (c) => {
      c.header('cache-control', 'no-store');
      return c.json(await rotateOrgWebhookSecret({ ctx: c.get('services') }), 200);
    },
  );
