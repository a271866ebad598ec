import { and, asc, count, eq, inArray, isNull, ne } from 'drizzle-orm';
import { z } from 'zod';
import { apiKeys, invitations, memberships, orgs, users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import type { Transaction } from '../../lib/db.ts';
import type { RequestOrigin } from '../actor.ts';
import { cacheRevokedKeys } from '../api-keys/cache.ts';
import { type AuditActor, auditActorOf, recordAudit } from '../audit/record.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { isId } from '../ids.ts';
import { confirmAuthority } from './authority.ts';
import { authorize } from './authorize.ts';
import { assertCanGrant, canGrant, roleAllows } from './permissions.ts';
import { ROLES, type Role } from './roles.ts';

export interface MemberView {
  object: 'member';
  user_id: string;
  email: string;
  name: string | null;
  role: string;
  joined_at: string;
}

const memberNotFound = () => new NotFoundError('Member not found.', { param: 'user_id' });

export async function listMembers({ ctx }: { ctx: ServiceContext }): Promise<MemberView[]> {
  const { caller } = authorize(ctx.caller, 'member.read');
  const rows = await ctx.db
    .select({ membership: memberships, user: users })
    .from(memberships)
    .innerJoin(users, and(eq(users.id, memberships.userId), isNull(users.deletedAt)))
    .where(eq(memberships.orgId, caller.orgId))
    .orderBy(asc(memberships.createdAt));
  return rows.map(({ membership, user }) => ({
    object: 'member',
    user_id: user.id,
    email: user.email,
    name: user.name,
    role: membership.role,
    joined_at: membership.createdAt.toISOString(),
  }));
}

/**
 * Locks the org row first, so changes to one org's members run one at a time (two owners demoting
 * each other at once cannot both pass the last-owner check), then the member's row.
 */
async function lockedMembership(tx: Transaction, orgId: string, userId: string) {
  if (!isId('user', userId)) throw memberNotFound();
  const [org] = await tx
    .select({ personalOf: orgs.personalOfUserId })
    .from(orgs)
    .where(eq(orgs.id, orgId))
    .for('update');
  const [row] = await tx
    .select()
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)))
    .for('update');
  if (!row || !org) throw memberNotFound();
  // A personal org belongs to its user: nobody, not even a co-owner, can take it from them.
  const isPersonalOwner = org.personalOf === userId;
  return { membership: row, isPersonalOwner };
}

/**
 * What a member loses with a lower role (or on leaving): account keys they created that grant more
 * than their new role, and open invitations they could no longer send. Otherwise a demoted admin
 * would keep admin power through an old key, or walk back in through an invitation to themselves.
 */
async function withdrawAuthority(
  tx: Transaction,
  orgId: string,
  userId: string,
  newRole: Role | null,
  now: Date,
  audit: {
    actor: AuditActor;
    origin: RequestOrigin;
    reason: 'member_removed' | 'member_left' | 'member_demoted';
  },
) {
  const keys = await tx
    .select({ id: apiKeys.id, role: apiKeys.role, hash: apiKeys.hash })
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.orgId, orgId),
        eq(apiKeys.createdByUserId, userId),
        eq(apiKeys.kind, 'account'),
        isNull(apiKeys.revokedAt),
      ),
    );
  const doomedKeys = keys.filter((key) => newRole === null || !key.role || !canGrant(newRole, key.role));
  if (doomedKeys.length > 0) {
    await tx
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(
        inArray(
          apiKeys.id,
          doomedKeys.map((key) => key.id),
        ),
      );
  }
  const open = await tx
    .select({ id: invitations.id, role: invitations.role })
    .from(invitations)
    .where(
      and(
        eq(invitations.orgId, orgId),
        eq(invitations.invitedByUserId, userId),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
      ),
    );
  const doomedInvitations = open.filter(
    (invitation) =>
      newRole === null || !roleAllows(newRole, 'invitation.manage') || !canGrant(newRole, invitation.role),
  );
  if (doomedInvitations.length > 0) {
    await tx
      .update(invitations)
      .set({ revokedAt: now })
      .where(
        inArray(
          invitations.id,
          doomedInvitations.map((invitation) => invitation.id),
        ),
      );
  }
  // One row per key and invitation, so the audit log filtered by a key (or invitation) says why it ended.
  for (const [targetType, ids] of [
    ['api_key', doomedKeys.map((key) => key.id)],
    ['invitation', doomedInvitations.map((invitation) => invitation.id)],
  ] as const) {
    for (const targetId of ids) {
      await recordAudit(tx, {
        orgId,
        actor: audit.actor,
        action: `${targetType}.revoke`,
        targetType,
        targetId,
        origin: audit.origin,
        metadata: { reason: audit.reason, userId },
      });
    }
  }
  return {
    keyHashes: doomedKeys.map((key) => key.hash),
    revokedKeys: doomedKeys.length,
    revokedInvitations: doomedInvitations.length,
  };
}

/** An org always keeps at least one owner, or nobody could ever delete it or manage billing. */
async function assertAnotherOwner(tx: Transaction, orgId: string, userId: string) {
  const [others] = await tx
    .select({ owners: count() })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, 'owner'), ne(memberships.userId, userId)));
  if (!others?.owners)
    throw new ConflictError('An organization needs at least one owner. Make someone else owner first.');
}

export const memberRoleInput = z.object({ role: z.enum(ROLES) }).strict();

export async function updateMemberRole({
  ctx,
  userId,
  input,
}: {
  ctx: ServiceContext;
  userId: string;
  input: z.input<typeof memberRoleInput>;
}) {
  const { caller, role: callerRole } = authorize(ctx.caller, 'member.manage');
  const { role } = memberRoleInput.parse(input);
  assertCanGrant(callerRole, role);
  const now = ctx.clock.now();
  const hashes = await ctx.db.transaction(async (tx) => {
    const { membership, isPersonalOwner } = await lockedMembership(tx, caller.orgId, userId);
    // With the caller's role as it stands behind the org lock: a change to it just committed counts.
    const heldRole = await confirmAuthority(tx, caller, 'member.manage', { orgLocked: true });
    assertCanGrant(heldRole, role);
    // Changing someone's role is granting their current role away: an admin cannot demote an owner.
    assertCanGrant(heldRole, membership.role);
    if (membership.role === 'owner' && role !== 'owner') {
      if (isPersonalOwner) throw new ConflictError('The owner of a personal organization stays its owner.');
      await assertAnotherOwner(tx, caller.orgId, userId);
    }
    await tx.update(memberships).set({ role }).where(eq(memberships.id, membership.id));
    const withdrawn = await withdrawAuthority(tx, caller.orgId, userId, role, now, {
      actor: auditActorOf(caller.actor),
      origin: ctx.origin,
      reason: 'member_demoted',
    });
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'member.update_role',
      targetType: 'user',
      targetId: userId,
      origin: ctx.origin,
      metadata: {
        from: membership.role,
        to: role,
        revokedKeys: withdrawn.revokedKeys,
        revokedInvitations: withdrawn.revokedInvitations,
      },
    });
    return withdrawn.keyHashes;
  });
  await cacheRevokedKeys(ctx, hashes);
  const members = await listMembers({ ctx });
  const updated = members.find((member) => member.user_id === userId);
  if (!updated) throw memberNotFound();
  return updated;
}

/**
 * Removes a member (or lets a member leave). The account keys they created in this org and the
 * invitations they sent are revoked with them: a person who left must not keep access through a key.
 * Deployment keys stay, since they belong to running applications rather than to people.
 */
export async function removeMember({ ctx, userId }: { ctx: ServiceContext; userId: string }): Promise<void> {
  const leaving = ctx.caller?.actor.type === 'user' && ctx.caller.actor.userId === userId;
  const { caller } = authorize(ctx.caller, leaving ? 'org.read' : 'member.manage');
  const now = ctx.clock.now();
  const hashes = await ctx.db.transaction(async (tx) => {
    const { membership, isPersonalOwner } = await lockedMembership(tx, caller.orgId, userId);
    // With the caller's role as it stands behind the org lock: a change to it just committed counts.
    if (!leaving)
      assertCanGrant(
        await confirmAuthority(tx, caller, 'member.manage', { orgLocked: true }),
        membership.role,
      );
    if (isPersonalOwner)
      throw new ConflictError('The owner of a personal organization cannot leave or be removed.');
    if (membership.role === 'owner') await assertAnotherOwner(tx, caller.orgId, userId);
    await tx.delete(memberships).where(eq(memberships.id, membership.id));
    const withdrawn = await withdrawAuthority(tx, caller.orgId, userId, null, now, {
      actor: auditActorOf(caller.actor),
      origin: ctx.origin,
      reason: leaving ? 'member_left' : 'member_removed',
    });
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: leaving ? 'member.leave' : 'member.remove',
      targetType: 'user',
      targetId: userId,
      origin: ctx.origin,
      metadata: {
        role: membership.role,
        revokedKeys: withdrawn.revokedKeys,
        revokedInvitations: withdrawn.revokedInvitations,
      },
    });
    return withdrawn.keyHashes;
  });
  await cacheRevokedKeys(ctx, hashes);
}
