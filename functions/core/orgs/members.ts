import { and, asc, count, eq, isNull, ne } from 'drizzle-orm';
import { z } from 'zod';
import { apiKeys, memberships, users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import type { Transaction } from '../../lib/db.ts';
import { dropCachedKeys } from '../api-keys/cache.ts';
import { auditActorOf, recordAudit } from '../audit/record.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { isId } from '../ids.ts';
import { authorize } from './authorize.ts';
import { assertCanGrant } from './permissions.ts';
import { ROLES } from './roles.ts';

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

async function lockedMembership(tx: Transaction, orgId: string, userId: string) {
  if (!isId('user', userId)) throw memberNotFound();
  const [row] = await tx
    .select()
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)))
    .for('update');
  if (!row) throw memberNotFound();
  return row;
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
  await ctx.db.transaction(async (tx) => {
    const membership = await lockedMembership(tx, caller.orgId, userId);
    // Changing someone's role is granting their current role away: an admin cannot demote an owner.
    assertCanGrant(callerRole, membership.role);
    if (membership.role === 'owner' && role !== 'owner') await assertAnotherOwner(tx, caller.orgId, userId);
    await tx.update(memberships).set({ role }).where(eq(memberships.id, membership.id));
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: 'member.update_role',
      targetType: 'user',
      targetId: userId,
      origin: ctx.origin,
      metadata: { from: membership.role, to: role },
    });
  });
  const members = await listMembers({ ctx });
  const updated = members.find((member) => member.user_id === userId);
  if (!updated) throw memberNotFound();
  return updated;
}

/**
 * Removes a member (or lets a member leave). The account keys they created in this org are revoked
 * with them: a person who left must not keep org access through a key. Deployment keys stay, since
 * they belong to running applications rather than to people.
 */
export async function removeMember({ ctx, userId }: { ctx: ServiceContext; userId: string }): Promise<void> {
  const leaving = ctx.caller?.actor.type === 'user' && ctx.caller.actor.userId === userId;
  const { caller, role: callerRole } = authorize(ctx.caller, leaving ? 'org.read' : 'member.manage');
  const now = ctx.clock.now();
  const hashes = await ctx.db.transaction(async (tx) => {
    const membership = await lockedMembership(tx, caller.orgId, userId);
    if (!leaving) assertCanGrant(callerRole, membership.role);
    if (membership.role === 'owner') await assertAnotherOwner(tx, caller.orgId, userId);
    await tx.delete(memberships).where(eq(memberships.id, membership.id));
    const revoked = await tx
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(
        and(
          eq(apiKeys.orgId, caller.orgId),
          eq(apiKeys.createdByUserId, userId),
          eq(apiKeys.kind, 'account'),
          isNull(apiKeys.revokedAt),
        ),
      )
      .returning({ hash: apiKeys.hash });
    await recordAudit(tx, {
      orgId: caller.orgId,
      actor: auditActorOf(caller.actor),
      action: leaving ? 'member.leave' : 'member.remove',
      targetType: 'user',
      targetId: userId,
      origin: ctx.origin,
      metadata: { role: membership.role, revokedKeys: revoked.length },
    });
    return revoked.map((key) => key.hash);
  });
  await dropCachedKeys(ctx, hashes);
}
