import { and, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { endpoints } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { assertVerified, humanBehind } from '../actor.ts';
import { auditActorOf, recordAudit } from '../audit/record.ts';
import { displayNameInput } from '../auth/inputs.ts';
import { capColumns, spendCapInput } from '../billing/caps.ts';
import { NotFoundError } from '../errors.ts';
import { isId } from '../ids.ts';
import { confirmAuthority } from '../orgs/authority.ts';
import { authorize } from '../orgs/authorize.ts';
import { assertCanGrant } from '../orgs/permissions.ts';
import { ROLES } from '../orgs/roles.ts';
import { insertApiKey } from './store.ts';
import { type ApiKeyView, toApiKeyView } from './view.ts';

export const createApiKeyInput = z
  .object({
    name: displayNameInput,
    kind: z.enum(['account', 'deployment']).default('account'),
    /** Account keys: what the key may do; defaults to the creator's own role. */
    role: z.enum(ROLES).optional(),
    /** Deployment keys: the endpoint the key may call. */
    endpoint_id: z
      .string()
      .refine((id) => isId('endpoint', id), 'must be a deployment id (ep_…)')
      .optional(),
    rate_limit_per_minute: z.number().int().min(1).max(1_000_000).optional(),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
    /** Caps on the GPU time of this key's requests: past one the key answers 402, other keys go on. */
    spend_cap: spendCapInput.optional(),
  })
  .strict()
  .superRefine((input, issues) => {
    if (input.kind === 'deployment' && !input.endpoint_id) {
      issues.addIssue({ code: 'custom', path: ['endpoint_id'], message: 'is required for deployment keys' });
    }
    if (input.kind === 'deployment' && input.role) {
      issues.addIssue({ code: 'custom', path: ['role'], message: 'only applies to account keys' });
    }
    if (input.kind === 'account' && input.endpoint_id) {
      issues.addIssue({ code: 'custom', path: ['endpoint_id'], message: 'only applies to deployment keys' });
    }
  });

export type CreateApiKeyInput = z.input<typeof createApiKeyInput>;

/** Creates a key; the secret is in the result and nowhere else, ever. */
export async function createApiKey({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: CreateApiKeyInput;
}): Promise<ApiKeyView & { key: string }> {
  const parsed = createApiKeyInput.parse(input);
  const { caller, role: callerRole } = authorize(ctx.caller, 'api_key.manage');
  assertVerified(caller.actor);
  const role = parsed.kind === 'account' ? (parsed.role ?? callerRole) : null;
  if (role) assertCanGrant(callerRole, role);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    // Granted with the role held when it is written, not when the request arrived.
    const heldRole = await confirmAuthority(tx, caller, 'api_key.manage');
    if (role) assertCanGrant(heldRole, role);
    if (parsed.endpoint_id) {
      const [endpoint] = await tx
        .select({ id: endpoints.id })
        .from(endpoints)
        .where(
          and(
            eq(endpoints.id, parsed.endpoint_id),
            eq(endpoints.orgId, caller.orgId),
            isNull(endpoints.deletedAt),
          ),
        );
      if (!endpoint) throw new NotFoundError('Endpoint not found.', { param: 'endpoint_id' });
    }
    const { row, secret } = await insertApiKey(tx, {
      orgId: caller.orgId,
      kind: parsed.kind,
      endpointId: parsed.endpoint_id ?? null,
      role,
      rateLimitPerMinute: parsed.rate_limit_per_minute ?? null,
      name: parsed.name,
      createdByUserId: humanBehind(caller.actor),
      ...capColumns(parsed.spend_cap),
      expiresAt: parsed.expires_in_days
        ? new Date(now.getTime() + parsed.expires_in_days * 86_400_000)
        : null,
    });
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'api_key.create',
      targetType: 'api_key',
      targetId: row.id,
      origin: ctx.origin,
      metadata: { kind: row.kind, role: row.role, endpointId: row.endpointId, name: row.name },
    });
    return { ...toApiKeyView(row), key: secret };
  });
}
