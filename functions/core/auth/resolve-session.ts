import { and, eq, gt, isNull } from 'drizzle-orm';
import { memberships, orgs, sessions, users } from '../../../db/schema/index.ts';
import type { ServiceContext } from '../../context.ts';
import type { Caller } from '../actor.ts';
import { NotFoundError, UnauthorizedError } from '../errors.ts';

/**
 * The caller behind a valid access token: the session must still be live (logout, password reset and
 * refresh-token reuse revoke it at once) and the user must belong to the org asked for. Without
 * `orgId` the user acts in their personal org.
 */
export async function resolveSession(
  ctx: ServiceContext,
  claims: { userId: string; sessionId: string },
  orgId: string | null,
): Promise<Caller> {
  const now = ctx.clock.now();
  const [session] = await ctx.db
    .select({ emailVerifiedAt: users.emailVerifiedAt })
    .from(sessions)
    .innerJoin(users, and(eq(users.id, sessions.userId), isNull(users.deletedAt)))
    .where(
      and(
        eq(sessions.id, claims.sessionId),
        eq(sessions.userId, claims.userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
      ),
    );
  if (!session) throw new UnauthorizedError('Your session has ended. Log in again.');

  const [membership] = await ctx.db
    .select({ orgId: memberships.orgId, role: memberships.role })
    .from(memberships)
    .innerJoin(orgs, and(eq(orgs.id, memberships.orgId), isNull(orgs.deletedAt)))
    .where(
      and(
        eq(memberships.userId, claims.userId),
        orgId ? eq(memberships.orgId, orgId) : eq(orgs.personalOfUserId, claims.userId),
      ),
    );
  // A foreign org and a missing one look the same from outside.
  if (!membership) throw new NotFoundError('Organization not found.', { param: 'x-org-id' });
  return {
    orgId: membership.orgId,
    actor: {
      type: 'user',
      userId: claims.userId,
      sessionId: claims.sessionId,
      role: membership.role,
      emailVerified: session.emailVerifiedAt !== null,
    },
  };
}
