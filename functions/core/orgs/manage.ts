import { and, asc, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import { apiKeys, endpoints, memberships, orgs } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import { assertVerified } from '../actor.ts';
import { cacheRevokedKeys } from '../api-keys/cache.ts';
import { auditActorOf, recordAudit } from '../audit/record.ts';
import { displayNameInput } from '../auth/inputs.ts';
import { turnOffAutoRefill } from '../billing/auto-refill-switch.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { newId } from '../ids.ts';
import { rotateWebhookSecret, webhookSecretsOf } from '../webhooks/secret.ts';
import { authorize, requireUser } from './authorize.ts';
import { orgSlug } from './slug.ts';

export interface OrgView {
  id: string;
  object: 'organization';
  name: string;
  slug: string;
  personal: boolean;
  /** The caller's role in this org (null for API keys). */
  role: string | null;
  created_at: string;
}

const toOrgView = (row: typeof orgs.$inferSelect, role: string | null): OrgView => ({
  id: row.id,
  object: 'organization',
  name: row.name,
  slug: row.slug,
  personal: row.personalOfUserId !== null,
  role,
  created_at: row.createdAt.toISOString(),
});

const orgNotFound = () => new NotFoundError('Organization not found.');

export const orgInput = z.object({ name: displayNameInput }).strict();

/** Orgs the signed-in user belongs to, with their role in each. */
export async function listMyOrgs({ ctx }: { ctx: ServiceContext }): Promise<OrgView[]> {
  const user = requireUser(ctx.caller);
  const rows = await ctx.db
    .select({ org: orgs, role: memberships.role })
    .from(memberships)
    .innerJoin(orgs, and(eq(orgs.id, memberships.orgId), isNull(orgs.deletedAt)))
    .where(eq(memberships.userId, user.userId))
    .orderBy(asc(orgs.createdAt));
  return rows.map((row) => toOrgView(row.org, row.role));
}

export async function createOrg({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: z.input<typeof orgInput>;
}): Promise<OrgView> {
  const user = requireUser(ctx.caller);
  assertVerified(user);
  const { name } = orgInput.parse(input);
  return ctx.db.transaction(async (tx) => {
    const [org] = await tx
      .insert(orgs)
      .values({ id: newId('org'), name, slug: orgSlug(name) })
      .returning();
    if (!org) throw new Error('insert returned no row');
    await tx.insert(memberships).values({ orgId: org.id, userId: user.userId, role: 'owner' });
    await recordAudit(tx, {
      orgId: org.id,
      actor: { type: 'user', id: user.userId },
      action: 'org.create',
      targetType: 'org',
      targetId: org.id,
      origin: ctx.origin,
      metadata: { name },
    });
    return toOrgView(org, 'owner');
  });
}

export async function getCurrentOrg({ ctx }: { ctx: ServiceContext }): Promise<OrgView> {
  const { caller } = authorize(ctx.caller, 'org.read');
  const [org] = await ctx.db
    .select()
    .from(orgs)
    .where(and(eq(orgs.id, caller.orgId), isNull(orgs.deletedAt)));
  if (!org) throw orgNotFound();
  return toOrgView(org, 'role' in caller.actor ? caller.actor.role : null);
}

export async function updateCurrentOrg({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: z.input<typeof orgInput>;
}) {
  const { caller, role } = authorize(ctx.caller, 'org.update');
  const { name } = orgInput.parse(input);
  return ctx.db.transaction(async (tx) => {
    const [org] = await tx
      .update(orgs)
      .set({ name })
      .where(and(eq(orgs.id, caller.orgId), isNull(orgs.deletedAt)))
      .returning();
    if (!org) throw orgNotFound();
    await recordAudit(tx, {
      orgId: org.id,
      actor: auditActorOf(caller.actor),
      action: 'org.update',
      targetType: 'org',
      targetId: org.id,
      origin: ctx.origin,
      metadata: { name },
    });
    return toOrgView(org, role);
  });
}

/**
 * Deletes a team org: it disappears for every member, all its keys stop working, its deployments are
 * deleted (the orchestrator releases their replicas) and its card is no longer charged automatically,
 * since nobody can reach the org's settings to turn anything off afterwards. Answers the deleted
 * deployments' ids, for the orchestrator to be told now rather than at its minute schedule.
 * A personal org goes with its user, never on its own.
 */
export async function deleteCurrentOrg({ ctx }: { ctx: ServiceContext }): Promise<string[]> {
  const { caller } = authorize(ctx.caller, 'org.delete');
  const now = ctx.clock.now();
  const { revokedHashes, deletedEndpoints } = await ctx.db.transaction(async (tx) => {
    const [org] = await tx
      .select()
      .from(orgs)
      .where(and(eq(orgs.id, caller.orgId), isNull(orgs.deletedAt)))
      .for('update');
    if (!org) throw orgNotFound();
    if (org.personalOfUserId) throw new ConflictError('A personal organization cannot be deleted.');
    await tx.update(orgs).set({ deletedAt: now }).where(eq(orgs.id, org.id));
    const revoked = await tx
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.orgId, org.id), isNull(apiKeys.revokedAt)))
      .returning({ hash: apiKeys.hash });
    const deleted = await tx
      .update(endpoints)
      .set({ deletedAt: now, state: 'stopped' })
      .where(and(eq(endpoints.orgId, org.id), isNull(endpoints.deletedAt)))
      .returning({ id: endpoints.id });
    await turnOffAutoRefill(tx, org.id);
    await recordAudit(tx, {
      orgId: org.id,
      actor: auditActorOf(caller.actor),
      action: 'org.delete',
      targetType: 'org',
      targetId: org.id,
      origin: ctx.origin,
      metadata: { revokedKeys: revoked.length, deletedDeployments: deleted.length },
    });
    return { revokedHashes: revoked.map((key) => key.hash), deletedEndpoints: deleted.map((row) => row.id) };
  });
  await cacheRevokedKeys(ctx, revokedHashes);
  return deletedEndpoints;
}

/** The org's job-webhook signing secret, for receivers to verify deliveries (Standard Webhooks). */
export async function getWebhookSecret({ ctx }: { ctx: ServiceContext }) {
  const { caller } = authorize(ctx.caller, 'org.update');
  const { secret, previous } = await webhookSecretsOf(ctx.db, caller.orgId, ctx.clock.now());
  return {
    object: 'webhook_secret' as const,
    secret,
    scheme: 'standard-webhooks',
    previous_secret_expires_at: previous?.expiresAt.toISOString() ?? null,
  };
}

/** A new signing secret; the old one signs beside it for a day (see `rotateWebhookSecret`). */
export async function rotateOrgWebhookSecret({ ctx }: { ctx: ServiceContext }) {
  const { caller } = authorize(ctx.caller, 'org.update');
  const now = ctx.clock.now();
  const rotated = await ctx.db.transaction(async (tx) => {
    const result = await rotateWebhookSecret(tx, caller.orgId, now);
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'org.webhook_secret.rotate',
      targetType: 'org',
      targetId: caller.orgId,
      origin: ctx.origin,
    });
    return result;
  });
  return {
    object: 'webhook_secret' as const,
    secret: rotated.secret,
    scheme: 'standard-webhooks',
    previous_secret_expires_at: rotated.previousExpiresAt.toISOString(),
  };
}
