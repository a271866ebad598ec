import { and, desc, eq, isNull, lt } from 'drizzle-orm';
import { z } from 'zod';
import { apiKeys } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { carrySpend, spendOf } from '../../lib/billing/spend.ts';
import { assertVerified, humanBehind } from '../actor.ts';
import { auditActorOf, recordAudit } from '../audit/record.ts';
import { displayNameInput } from '../auth/inputs.ts';
import { apiKeySubject, capColumns, spendCapInput, spendView } from '../billing/caps.ts';
import { NotFoundError } from '../errors.ts';
import { isId } from '../ids.ts';
import { authorize } from '../orgs/authorize.ts';
import { assertCanGrant } from '../orgs/permissions.ts';
import { pageOf } from '../page.ts';
import { cacheRevokedKeys } from './cache.ts';
import { refreshCachedKey } from './resolve.ts';
import { insertApiKey } from './store.ts';
import { type ApiKeyView, toApiKeyView } from './view.ts';

const notFound = () => new NotFoundError('API key not found.', { param: 'id' });

export interface ListApiKeysInput {
  kind?: 'account' | 'deployment' | undefined;
  endpointId?: string | undefined;
  includeRevoked?: boolean | undefined;
  limit: number;
  /** Id of the last key of the previous page (ids sort by creation time). */
  after?: string | undefined;
}

export async function listApiKeys({ ctx, input }: { ctx: ServiceContext; input: ListApiKeysInput }) {
  const { caller } = authorize(ctx.caller, 'api_key.read');
  const rows = await ctx.db
    .select()
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.orgId, caller.orgId),
        input.kind ? eq(apiKeys.kind, input.kind) : undefined,
        input.endpointId ? eq(apiKeys.endpointId, input.endpointId) : undefined,
        input.includeRevoked ? undefined : isNull(apiKeys.revokedAt),
        input.after ? lt(apiKeys.id, input.after) : undefined,
      ),
    )
    .orderBy(desc(apiKeys.id))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, toApiKeyView);
}

/** A live key of the caller's org; revoked keys and other orgs' keys are "not found" alike. */
async function findLiveKey(ctx: ServiceContext, orgId: string, id: string) {
  if (!isId('apiKey', id)) throw notFound();
  const [row] = await ctx.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, orgId), isNull(apiKeys.revokedAt)));
  if (!row) throw notFound();
  return row;
}

export async function getApiKey({ ctx, id }: { ctx: ServiceContext; id: string }) {
  const { caller } = authorize(ctx.caller, 'api_key.read');
  const row = await findLiveKey(ctx, caller.orgId, id);
  const spent = await spendOf(ctx.db, [apiKeySubject(row.id)], ctx.clock.now());
  return { ...toApiKeyView(row), spend: spendView(spent.get(apiKeySubject(row.id)) ?? { day: 0, month: 0 }) };
}

/**
 * Revokes in the database, then drops the cached resolution so the key stops working at once (the
 * cache's 30-second lifetime bounds it if that delete is lost).
 */
export async function revokeApiKey({ ctx, id }: { ctx: ServiceContext; id: string }): Promise<ApiKeyView> {
  const { caller, role } = authorize(ctx.caller, 'api_key.manage');
  const existing = await findLiveKey(ctx, caller.orgId, id);
  // Nobody removes a key more powerful than themselves (an admin cannot revoke an owner's key).
  if (existing.role) assertCanGrant(role, existing.role);
  const now = ctx.clock.now();
  const revoked = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, caller.orgId), isNull(apiKeys.revokedAt)))
      .returning();
    if (!row) throw notFound();
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'api_key.revoke',
      targetType: 'api_key',
      targetId: row.id,
      origin: ctx.origin,
      metadata: { kind: row.kind, name: row.name },
    });
    return row;
  });
  await cacheRevokedKeys(ctx, [revoked.hash]);
  return toApiKeyView(revoked);
}

/** Replaces a key with a fresh secret and the same settings; the old one stops working now. */
export async function regenerateApiKey({
  ctx,
  id,
}: {
  ctx: ServiceContext;
  id: string;
}): Promise<ApiKeyView & { key: string }> {
  const { caller, role } = authorize(ctx.caller, 'api_key.manage');
  assertVerified(caller.actor);
  const existing = await findLiveKey(ctx, caller.orgId, id);
  if (existing.role) assertCanGrant(role, existing.role);
  const now = ctx.clock.now();
  const created = await ctx.db.transaction(async (tx) => {
    // Settings copied from the row as revoked, so a cap changed meanwhile is not lost.
    const [old] = await tx
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, caller.orgId), isNull(apiKeys.revokedAt)))
      .returning();
    if (!old) throw notFound();
    const { row, secret } = await insertApiKey(tx, {
      orgId: old.orgId,
      kind: old.kind,
      endpointId: old.endpointId,
      role: old.role,
      rateLimitPerMinute: old.rateLimitPerMinute,
      spendCapDailyMicroUsd: old.spendCapDailyMicroUsd,
      spendCapMonthlyMicroUsd: old.spendCapMonthlyMicroUsd,
      name: old.name,
      createdByUserId: humanBehind(caller.actor) ?? old.createdByUserId,
      // The replacement lives as long as the original was meant to, counted from now.
      expiresAt: old.expiresAt
        ? new Date(now.getTime() + (old.expiresAt.getTime() - old.createdAt.getTime()))
        : null,
    });
    // The replacement inherits what the key spent, so regenerating is no way around its spend cap.
    await carrySpend(tx, apiKeySubject(existing.id), apiKeySubject(row.id));
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'api_key.regenerate',
      targetType: 'api_key',
      targetId: row.id,
      origin: ctx.origin,
      metadata: { replaces: existing.id, kind: row.kind, name: row.name },
    });
    return { row, secret };
  });
  await cacheRevokedKeys(ctx, [existing.hash]);
  return { ...toApiKeyView(created.row), key: created.secret };
}

export const updateApiKeyInput = z
  .object({ name: displayNameInput.optional(), spend_cap: spendCapInput.optional() })
  .strict()
  .refine((input) => Object.keys(input).length > 0, 'change at least one setting');
export type UpdateApiKeyInput = z.input<typeof updateApiKeyInput>;

/** Renames a key or changes its spend caps; the secret stays the same. */
export async function updateApiKey({
  ctx,
  id,
  input,
}: {
  ctx: ServiceContext;
  id: string;
  input: UpdateApiKeyInput;
}) {
  const { caller, role } = authorize(ctx.caller, 'api_key.manage');
  const parsed = updateApiKeyInput.parse(input);
  const existing = await findLiveKey(ctx, caller.orgId, id);
  if (existing.role) assertCanGrant(role, existing.role);
  const updated = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({
        name: parsed.name,
        ...capColumns(parsed.spend_cap),
      })
      .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, caller.orgId), isNull(apiKeys.revokedAt)))
      .returning();
    if (!row) throw notFound();
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'api_key.update',
      targetType: 'api_key',
      targetId: row.id,
      origin: ctx.origin,
      metadata: { changed: Object.keys(parsed), spendCap: parsed.spend_cap ?? null },
    });
    return toApiKeyView(row);
  });
  // Its caps decide what the key may do (a capped key reads and runs inference only): now, not when
  // its cached resolution expires.
  // Should Redis fail here, the cap is saved and the old entry lapses within the cache's 30 seconds.
  if (parsed.spend_cap)
    await refreshCachedKey(ctx, existing.hash).catch((error: unknown) =>
      ctx.logger.warn('key cache not refreshed after a cap change', { keyId: id, cause: String(error) }),
    );
  return updated;
}
